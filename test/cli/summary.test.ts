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
