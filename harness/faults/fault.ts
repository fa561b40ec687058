/**
 * Faults: each is a value with a name, `inject`, `heal` and `audit`. `heal` always runs (also
 * when the run fails or is interrupted) and is safe to run twice or after a failed inject;
 * `audit` proves afterwards that nothing of the fault is left.
 */
import type { Logger } from '../core/log.ts';
import type { StartedLab } from '../lab/lab.ts';
import type { LabPlan, NodePlan } from '../lab/lab-config.ts';
import type { FaultKind } from '../scenario/scenario.ts';

export interface FaultContext {
  lab: StartedLab;
  /** The node the fault hits (the active node, for the `*-active` faults). */
  node: string;
  log: Logger;
  /** Each node's clock offset as the run measured it before the fault (node minus host, ms). */
  clockOffsetsMs?: Record<string, number>;
  /** Cancels a fault's own waits (a combination's gap between its steps). */
  signal?: AbortSignal;
}

/** The plan of the node a fault hits. */
export function faultNode(ctx: FaultContext): NodePlan {
  const node = ctx.lab.plan.nodes.find((n) => n.name === ctx.node);
  if (!node) throw new Error(`no node ${ctx.node} in the lab`);
  return node;
}

export interface Fault {
  readonly kind: FaultKind;
  readonly description: string;
  inject(ctx: FaultContext): Promise<unknown>;
  heal(ctx: FaultContext): Promise<void>;
  /**
   * Ends a held fault (scenario `holdSeconds`) the way it ends in the field, which may be less
   * than a heal: a dead BMC comes back, but the node it powered off stays off for the cluster
   * to fence. Without it, release is the heal.
   */
  release?(ctx: FaultContext): Promise<void>;
  /** Leftovers of the fault, in words; empty when clean. */
  audit(ctx: FaultContext): Promise<string[]>;
  /**
   * Why the fault has no meaning for this lab's architecture (a replication link on shared
   * storage, a dead array path on DRBD), or undefined when it applies. Never faked: certify lists
   * such a scenario as not applicable, with this reason.
   */
  notApplicable?(plan: LabPlan): string | undefined;
}

/** The fault, for labs whose store is one of `kinds` only; elsewhere not applicable because `why`. */
export function onStore(kinds: LabPlan['config']['storage'][], why: string, fault: Fault): Fault {
  return { ...fault, notApplicable: (plan) => (kinds.includes(plan.config.storage) ? fault.notApplicable?.(plan) : why) };
}
