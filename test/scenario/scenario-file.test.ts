import test from 'ava';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { REPO_ROOT } from '../../harness/core/paths.ts';
import { faultFor } from '../../harness/faults/catalog.ts';
import { expectationFor, type FaultKind } from '../../harness/scenario/scenario.ts';
import { parseScenario } from '../../harness/scenario/scenario-file.ts';
import { builtinScenarios, SCENARIOS } from '../../harness/scenario/catalog.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { run } from '../../harness/core/exec.ts';
import { tempDir } from '../helpers.ts';

const good = `name: my-cut
description: a power cut
fault: power-cut-active
expect: failover
slo:
  maxOutageSeconds: 90
workload:
  sendRate: 2
  probeIntervalMs: 250
  warmupSeconds: 10
  recoveryTimeoutSeconds: 300
  cooldownSeconds: 10
`;

function problems(text: string): string[] {
  try {
    parseScenario(text, 'x.yaml');
    return [];
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
}

test('a good scenario file parses into the plain value', (t) => {
  const s = parseScenario(good, 'x.yaml');
  t.like(s, { name: 'my-cut', fault: 'power-cut-active', expect: 'failover', slo: { maxOutageSeconds: 90 } });
});

test('every built-in scenario file is valid and named after its file', (t) => {
  const all = builtinScenarios();
  t.deepEqual(Object.keys(all).sort(), [
    'client-nic-loss-active',
    'clock-jump-active',
    'disk-bad-sectors-active',
    'disk-death-active',
    'disk-dropped-writes-passive',
    'disk-full-active',
    'disk-hung-active',
    'disk-slow-active',
    'disk-write-errors-active',
    'freeze-active',
    'hard-reset-active',
    'heartbeat-degraded-active',
    'heartbeat-loss-active',
    'kernel-panic-active',
    'kill-corosync-active',
    'kill-mail-service-active',
    'kill-pacemaker-controller-active',
    'one-ring-loss-active',
    'one-ring-one-way-loss-active',
    'power-cut-active',
    'power-cut-bmc-dead-active',
    'power-cut-slow-bmc-active',
    'power-loss-active',
    'replication-loss-active',
    'replication-loss-then-power-cut-active',
    'store-path-loss-active',
  ]);
  t.is(all['power-cut-bmc-dead-active']!.holdSeconds, 60);
  t.is(all['disk-dropped-writes-passive']!.storeDifferences, 'expected');
});

test('errors name the line and the field', (t) => {
  t.deepEqual(problems(good.replace('sendRate: 2', 'sendRate: 500')), ['line 8: /workload/sendRate: must be <= 50']);
  t.deepEqual(problems(good.replace('probeIntervalMs: 250', 'probeIntervalMs: 1000')), ['line 9: /workload/probeIntervalMs: must be <= 250']);
  t.deepEqual(problems(good.replace('fault: power-cut-active', 'fault: meteor-strike')), [
    'line 3: /fault: must be one of "power-cut-active", "hard-reset-active", "heartbeat-loss-active", "one-ring-loss-active", "kill-mail-service-active", "kill-corosync-active", "freeze-active", "kernel-panic-active", "replication-loss-active", "client-nic-loss-active", "power-cut-bmc-dead-active", "power-cut-slow-bmc-active", "heartbeat-degraded-active", "disk-full-active", "clock-jump-active", "replication-loss-then-power-cut-active", "disk-death-active", "one-ring-one-way-loss-active", "kill-pacemaker-controller-active", "store-path-loss-active", "power-loss-active", "disk-bad-sectors-active", "disk-write-errors-active", "disk-dropped-writes-passive", "disk-slow-active", "disk-hung-active"',
  ]);
  t.deepEqual(problems(good.replace('  maxOutageSeconds: 90\n', '  maxOutage: 90\n')), [
    'line 6: /slo/maxOutageSeconds: is required but missing',
    'line 6: /slo/maxOutage: is not a known field (check its spelling)',
  ]);
  t.deepEqual(problems(good.replace('expect: failover\n', '')), ['line 1: expect: is required but missing']);
  t.deepEqual(problems(good.replace('expect: failover\n', 'expect: failover\nholdSeconds: 0\n')), ['line 5: /holdSeconds: must be >= 1']);
});

test('YAML syntax errors name the line', (t) => {
  const p = problems(good.replace('slo:\n', 'slo: [\n'));
  t.true(p.length > 0);
  t.regex(p[0]!, /^line \d+: YAML syntax: /);
});

test('ha-chaos run with a broken file exits 2 naming file, line and field', async (t) => {
  const file = join(tempDir(), 'broken.yaml');
  writeFileSync(file, good.replace('warmupSeconds: 10', 'warmupSeconds: -1'));
  const r = await run('./bin/ha-chaos', ['run', file], { timeoutMs: 60_000, reject: false });
  t.is(r.exitCode, 2);
  t.regex(r.stderr, /broken\.yaml is invalid:\n {2}- line 10: \/workload\/warmupSeconds: must be >= 0/);
  const unknown = await run('./bin/ha-chaos', ['certify', '--scenario', 'no-such-scenario'], { timeoutMs: 60_000, reject: false });
  t.is(unknown.exitCode, 2);
  t.regex(unknown.stderr, /no scenario named "no-such-scenario"/);
});

test('every fault a scenario file may name has an implementation', (t) => {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas/scenario.schema.json'), 'utf8')) as { properties: { fault: { enum: FaultKind[] } } };
  for (const kind of schema.properties.fault.enum) t.is(faultFor(kind).kind, kind);
});

test('scenario applicability: each architecture runs what has meaning for it; the others say why not', async (t) => {
  const { notApplicable } = await import('../../harness/faults/catalog.ts');
  const { loadLabConfig } = await import('../../harness/cluster/lab-config.ts');
  const { labTraits } = await import('../../harness/lab/lab.ts');
  const drbd = labTraits(loadLabConfig());
  const shared = labTraits({ ...loadLabConfig(), storage: 'shared' });
  const all = Object.values(builtinScenarios());
  const na = (plan: typeof drbd) => all.filter((s) => notApplicable(s.fault, plan)).map((s) => `${s.name}: ${notApplicable(s.fault, plan)}`);
  t.deepEqual(na(drbd), ['store-path-loss-active: a DRBD store has no array path to lose (its disks are local; disk-death-active is its disk failure)']);
  const oneCopy = "a shared store has one copy: no peer serves a read or takes a write its disk fails (the array's own RAID masks media errors); its path faults are disk-slow-active, disk-hung-active and store-path-loss-active";
  t.deepEqual(na(shared), [
    `disk-bad-sectors-active: ${oneCopy}`,
    'disk-death-active: a shared store has no per-node backing disk: its loss is the path loss of store-path-loss-active',
    `disk-dropped-writes-passive: ${oneCopy}`,
    `disk-write-errors-active: ${oneCopy}`,
    'replication-loss-active: a shared store has no replication link: both nodes reach the one disk directly',
    'replication-loss-then-power-cut-active: a shared store has no replication link: both nodes reach the one disk directly',
  ]);
});

test('an expectation that depends on the fencing: IPMI only expects no takeover and names the weakness; a power switch expects the failover as written', (t) => {
  const s = SCENARIOS['power-loss-active']!;
  const ipmi = expectationFor(s, 'ipmi');
  t.is(ipmi.scenario.expect, 'no-takeover');
  t.is(ipmi.scenario.workload.recoveryTimeoutSeconds, 90);
  t.is(ipmi.weakness, 'a loss of mains power on the active node leaves the service down until power returns: add a power-switch fencing level');
  t.is(ipmi.because, 'no-takeover, because the node is fenced through its BMC only');
  const pdu = expectationFor(s, 'pdu');
  t.is(pdu.scenario.expect, 'failover');
  t.is(pdu.because, 'failover, because the node is fenced through a power switch');
  t.is(pdu.weakness, undefined);
  // Two levels: the BMC dies with the node, the outlets (level 2) fence it.
  const levels = expectationFor(s, 'ipmi+pdu');
  t.is(levels.scenario.expect, 'failover');
  t.is(levels.because, 'failover, because the node is fenced through its BMC and a power switch');
  t.is(levels.scenario.workload, s.workload);
  t.is(expectationFor(SCENARIOS['power-cut-active']!, 'ipmi').because, 'failover, whatever fences the node');
});
