/** The relative SLO, on literal baselines. */
import test from 'ava';
import { resolveSlo, spread, type Baseline } from '../../harness/calibrate/baseline.ts';
import type { Scenario } from '../../harness/scenario/scenario.ts';

const scenario = (relative?: Scenario['slo']['relative']): Scenario => ({
  name: 'power-cut-active',
  description: 'd',
  fault: 'power-cut-active',
  expect: 'failover',
  slo: { maxOutageSeconds: 180, ...(relative ? { relative } : {}) },
  workload: { sendRate: 2, probeIntervalMs: 250, warmupSeconds: 15, recoveryTimeoutSeconds: 300, cooldownSeconds: 15 },
});

const baseline: Baseline = {
  schemaVersion: 1,
  lab: 'lab',
  configHash: 'abc',
  host: { name: 'h', cores: 2, model: 'x', sha256MBps: 600, accel: 'tcg' },
  scenario: 'power-cut-active',
  calibratedAt: '2026-12-01T20:00:00.000Z',
  runs: [],
  outage: { median: 48, min: 44.1, max: 55.2, mad: 2.1, n: 5 },
  phases: {},
};

test('median and spread', (t) => {
  t.deepEqual(spread([50, 44, 48, 61, 47]), { median: 48, min: 44, max: 61, mad: 2, n: 5 });
  t.deepEqual(spread([10, 20]), { median: 15, min: 10, max: 20, mad: 5, n: 2 });
  t.is(spread([]), undefined);
});

test('an emulated, calibrated lab holds a scenario with a relative SLO to factor x the baseline median (+ extra)', (t) => {
  const slo = resolveSlo(scenario({ factor: 1.5 }), { accel: 'tcg', baseline });
  t.is(slo.kind, 'relative');
  t.is(slo.maxOutageSeconds, 72);
  t.is(slo.basis, '72 s = 1.5 x the calibrated baseline 48 s (power-cut-active, 5 runs, spread 44.1-55.2 s, 2026-12-01)');
  t.is(resolveSlo(scenario({ factor: 1.5, extraSeconds: 60 }), { accel: 'tcg', baseline }).maxOutageSeconds, 132);
});

test('the absolute SLO applies, and says why, without a relative SLO, on KVM, or without a calibration', (t) => {
  t.deepEqual(resolveSlo(scenario(), { accel: 'tcg', baseline }), { maxOutageSeconds: 180, kind: 'absolute', basis: '180 s (the scenario has no relative SLO)' });
  t.deepEqual(resolveSlo(scenario({ factor: 1.5 }), { accel: 'kvm', baseline }), { maxOutageSeconds: 180, kind: 'absolute', basis: '180 s (absolute: KVM lab)' });
  t.deepEqual(resolveSlo(scenario({ factor: 1.5 }), { accel: 'tcg', why: 'lab not calibrated (run: ha-chaos calibrate)' }), {
    maxOutageSeconds: 180,
    kind: 'absolute',
    basis: '180 s (absolute: lab not calibrated (run: ha-chaos calibrate))',
  });
});

test('a baseline from calibration runs: outage and per-phase spreads; too few measured outages is no baseline', async (t) => {
  const { baselineOf } = await import('../../harness/cli/calibrate-command.ts');
  const meta = { lab: 'lab', configHash: 'abc', host: baseline.host, scenario: 'power-cut-active', calibratedAt: '2026-12-01T20:00:00.000Z' };
  const runs = [47.4, 51.9, 49.0].map((o, i) => ({ runId: `r${i}`, seed: i, outageSeconds: o, valid: true }));
  const b = baselineOf(runs, [{ 'fence-confirmed': 21.6 }, { 'fence-confirmed': 20.1 }, { 'fence-confirmed': 23 }], meta);
  t.deepEqual(b.outage, { median: 49, min: 47.4, max: 51.9, mad: 1.6, n: 3 });
  t.deepEqual(b.phases['fence-confirmed'], { median: 21.6, min: 20.1, max: 23, mad: 1.4, n: 3 });
  t.throws(() => baselineOf(runs.map((r, i) => ({ ...r, outageSeconds: i ? null : 40 })), [], meta), { message: 'only 1 of 3 calibration runs measured an outage: no baseline' });
});

test('certify --repeat reports how many passed and the outage spread per scenario', async (t) => {
  const { outageSpreads } = await import('../../harness/cli/certify-command.ts');
  const r = (name: string, valid: boolean, outageSeconds: number | null) => ({ name, valid, metrics: { outageSeconds } }) as never;
  t.deepEqual(outageSpreads([r('power-cut-active', true, 50), r('power-cut-active', true, 46), r('power-cut-active', false, 70), r('freeze-active', true, 55)]), [
    'power-cut-active: 2 of 3 passed; outage median 50 s, spread 46-70 s (MAD 4 s, 3 measured)',
  ]);
});
