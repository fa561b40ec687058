import test from 'ava';
import { drawSchedule } from '../../harness/run/run-scenario.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';

const scenario = SCENARIOS['power-cut-active']!;

test('the fault schedule is drawn from the seed: the same seed, the same moment', (t) => {
  const a = drawSchedule(scenario, 2026, 'node1');
  t.deepEqual(drawSchedule(scenario, 2026, 'node1'), a);
  t.is(a.fault, 'power-cut-active');
  t.is(a.jitterSeconds, 5);
  t.true(a.injectAfterSeconds >= scenario.workload.warmupSeconds && a.injectAfterSeconds < scenario.workload.warmupSeconds + 5);
  const moments = new Set(Array.from({ length: 20 }, (_, seed) => drawSchedule(scenario, seed, 'node1').injectAfterSeconds));
  t.true(moments.size > 15, 'different seeds spread the fault over the window');
  const other = SCENARIOS['freeze-active']!;
  t.not(drawSchedule(other, 2026, 'node1').injectAfterSeconds, a.injectAfterSeconds, 'one seed across a suite still hits each scenario at its own moment');
});

test('no jitter: the fault hits right after the warm-up', (t) => {
  const s = drawSchedule({ ...scenario, workload: { ...scenario.workload, injectJitterSeconds: 0 } }, 99, 'node2');
  t.deepEqual(s, { fault: 'power-cut-active', node: 'node2', injectAfterSeconds: scenario.workload.warmupSeconds, jitterSeconds: 0 });
});
