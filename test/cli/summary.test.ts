import test from 'ava';
import { summarize } from '../../harness/cli/certify-command.ts';
import type { RunResults } from '../../harness/report/results.ts';

test('the console summary: verdict, schedule, one line per check, phases in time order', (t) => {
  const results: RunResults = {
    schemaVersion: 1,
    runId: '20261125-140404-hard-reset-active-9963',
    name: 'hard-reset-active',
    seed: 2026,
    startedAt: '2026-11-25T14:04:04.000Z',
    finishedAt: '2026-11-25T14:06:53.000Z',
    valid: 'unknown',
    summary: 'fencing: unknown',
    checks: {
      'failover-time': { valid: true, summary: 'outage 99.2 s (SLO 180 s)' },
      fencing: { valid: 'unknown', summary: 'no takeover was observed: nothing to order' },
      'mail-integrity': { valid: false, summary: '1 acknowledged message(s) lost' },
    },
    schedule: { fault: 'hard-reset-active', node: 'node2', injectAfterSeconds: 17.25, jitterSeconds: 5 },
    metrics: { phasesSecondsAfterFault: { 'ip-up': 41.6, detected: 1, 'fence-confirmed': 19 } },
  };
  t.is(
    summarize(results, 'reports/x'),
    [
      'UNKNOWN hard-reset-active (run 20261125-140404-hard-reset-active-9963, seed 2026)',
      '  fault: hard-reset-active on node2, 17.25 s after the workload started',
      '  ok      failover-time: outage 99.2 s (SLO 180 s)',
      '  UNKNOWN fencing: no takeover was observed: nothing to order',
      '  FAILED  mail-integrity: 1 acknowledged message(s) lost',
      '  phases (s after the fault): detected 1, fence-confirmed 19, ip-up 41.6',
      '  report: reports/x/timeline.html',
    ].join('\n'),
  );
});

test('a pass that shows a weakness of the architecture says it under the verdict (captured from the lane: power-loss-active with IPMI-only fencing)', (t) => {
  const results: RunResults = {
    schemaVersion: 1,
    runId: '20261206-044553-power-loss-active-9c9d',
    name: 'power-loss-active',
    seed: 78,
    startedAt: '2026-12-06T04:45:53.000Z',
    finishedAt: '2026-12-06T04:50:10.000Z',
    valid: true,
    summary: "all 5 checks passed; the architecture's weakness: a loss of mains power on the active node leaves the service down until power returns: add a power-switch fencing level",
    checks: { fencing: { valid: true, summary: 'no takeover, as required; node1 fenced' } },
    environment: { expectation: { expect: 'no-takeover', because: 'no-takeover, because the node is fenced through its BMC only', weakness: 'a loss of mains power on the active node leaves the service down until power returns: add a power-switch fencing level' } },
  };
  t.is(
    summarize(results),
    [
      'PASS power-loss-active (run 20261206-044553-power-loss-active-9c9d, seed 78)',
      "  expected: no-takeover, because the node is fenced through its BMC only; the architecture's weakness: a loss of mains power on the active node leaves the service down until power returns: add a power-switch fencing level",
      '  ok      fencing: no takeover, as required; node1 fenced',
    ].join('\n'),
  );
});
