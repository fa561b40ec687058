/**
 * The default certification suite: every built-in scenario (fixtures/scenarios/) against the
 * lab, one after the other, each judged by all five checkers. A report directory per scenario
 * under reports/. The lab is left up afterwards for inspection (`ha-chaos lab down` removes it).
 * Seed: HA_CHAOS_SEED, else random (always recorded in each report).
 */
import test from 'ava';
import { randomInt } from 'node:crypto';
import { rootLogger } from '../harness/core/log.ts';
import { Lab } from '../harness/lab/lab.ts';
import { loadLabConfig } from '../harness/cluster/lab-config.ts';
import { runScenario } from '../harness/run/run-scenario.ts';
import { SCENARIOS } from '../harness/scenario/catalog.ts';
import { notApplicable } from '../harness/faults/catalog.ts';

const lab = new Lab(loadLabConfig(process.env.HA_CHAOS_LAB_CONFIG), rootLogger('suite'));
const seed = process.env.HA_CHAOS_SEED ? Number(process.env.HA_CHAOS_SEED) : randomInt(0, 2 ** 31);

test.before(async (t) => {
  t.timeout(40 * 60_000, 'lab up');
  await lab.up();
  t.log(`seed ${seed}`);
});

for (const scenario of Object.values(SCENARIOS)) {
  // A fault with no meaning for this lab's architecture (a shared store's path on DRBD) is listed with the reason, never run.
  const reason = notApplicable(scenario.fault, lab.traits);
  if (reason) {
    test.skip(`${scenario.name}: not applicable to ${lab.traits.describe}: ${reason}`, () => undefined);
    continue;
  }
  test.serial(`${scenario.name}: ${scenario.description}`, async (t) => {
    t.timeout(30 * 60_000);
    const { dir, results } = await runScenario({ target: lab, scenario, seed, log: lab.log });
    for (const [name, check] of Object.entries(results.checks)) t.log(`${name}: ${String(check.valid)}: ${check.summary}`);
    t.log(`phases (s after the fault): ${JSON.stringify(results.metrics?.phasesSecondsAfterFault)}`);
    t.log(`report: ${dir}/timeline.html`);
    t.is(results.valid, true, results.summary);
  });
}
