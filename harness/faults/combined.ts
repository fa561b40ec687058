/**
 * Combinations: faults injected one after the other on the same node, healed in reverse order.
 * A heal that fails does not stop the others; the first error is rethrown after all have run.
 */
import { sleep } from '../core/wait.ts';
import type { FaultKind } from '../scenario/scenario.ts';
import type { Fault } from './fault.ts';
import { powerCutActive } from './bmc-faults.ts';
import { replicationLossActive } from './node-faults.ts';

export interface Step {
  fault: Fault;
  /** Seconds after the previous step (0 for the first). */
  afterSeconds: number;
}

export function sequence(kind: FaultKind, description: string, steps: Step[]): Fault {
  return {
    kind,
    description,
    async inject(ctx) {
      const done: unknown[] = [];
      for (const step of steps) {
        if (step.afterSeconds > 0) {
          ctx.log.info(`next fault of the combination, ${step.fault.kind}, in ${step.afterSeconds} s`);
          await sleep(step.afterSeconds * 1000, ctx.signal);
        }
        done.push({ fault: step.fault.kind, at: new Date().toISOString(), result: await step.fault.inject(ctx) });
      }
      return done;
    },
    notApplicable: (traits) => steps.map((s) => s.fault.notApplicable?.(traits)).find((why) => why !== undefined),
    async heal(ctx) {
      let first: unknown;
      for (const step of [...steps].reverse()) {
        await step.fault.heal(ctx).catch((error: unknown) => {
          ctx.log.error(`heal of ${step.fault.kind} failed: ${(error as Error).message}`);
          first ??= error;
        });
      }
      if (first) throw first;
    },
    async audit(ctx) {
      return (await Promise.all(steps.map((s) => s.fault.audit(ctx)))).flat();
    },
  };
}

/**
 * The replication link dies (DRBD outdates the peer through Pacemaker's fence-peer handler), then
 * the active node loses power. The peer's copy lacks what was written since: it must not be
 * promoted, even though the failed node is fenced. Data before availability.
 */
export const replicationLossThenPowerCutActive = sequence(
  'replication-loss-then-power-cut-active',
  "the active node's replication NIC dies, and 20 s later its power: the peer's copy is outdated, so the peer must not take over; the service waits for the failed node",
  [
    { fault: replicationLossActive, afterSeconds: 0 },
    { fault: powerCutActive, afterSeconds: 20 },
  ],
);
