/**
 * Faults: each is a value with a name, `inject`, `heal` and `audit`. `heal` always runs (also
 * when the run fails or is interrupted) and is safe to run twice or after a failed inject;
 * `audit` proves afterwards that nothing of the fault is left.
 */
import type { Logger } from '../core/log.ts';
import type { FaultMethod, FaultTarget, TargetTraits } from '../session/target.ts';
import type { StorageKind, ClusterNode } from '../cluster/plan.ts';
import type { FaultKind } from '../scenario/scenario.ts';

/** What a fault acts on: the started target, the node it hits, and the run's log. */
export interface FaultContext {
  target: FaultTarget;
  /** The node the fault hits (the active node, for the `*-active` faults). */
  node: string;
  log: Logger;
  /** Each node's clock offset as the run measured it before the fault (node minus host, ms). */
  clockOffsetsMs?: Record<string, number>;
  /** Cancels a fault's own waits (a combination's gap between its steps). */
  signal?: AbortSignal;
}

/** The plan of the node a fault hits. */
export function faultNode(ctx: FaultContext): ClusterNode {
  const node = ctx.target.plan.nodes.find((n) => n.name === ctx.node);
  if (!node) throw new Error(`no node ${ctx.node} in the target`);
  return node;
}

/**
 * One fault the nemesis can inject. `inject` returns what it did (recorded in the history); `heal`
 * undoes it whatever state the run is in; `audit` lists what is left of it.
 */
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
   * For a fault that makes the store's copies differ behind the cluster's back (a disk that drops
   * writes): after the online verify found what the scenario expects it to find, makes the copies
   * identical again the way an operator would; resolves what it did.
   */
  repairStore?(ctx: FaultContext): Promise<string>;
  /**
   * Why the fault has no meaning for this target (a replication link on shared storage, a VM pause
   * on real machines), or undefined when it applies. Never faked: certify lists such a scenario as
   * not applicable, with this reason.
   */
  notApplicable?(traits: TargetTraits): string | undefined;
}

/** The fault, for stores of `kinds` only; elsewhere not applicable because `why`. */
export function onStore(kinds: StorageKind[], why: string, fault: Fault): Fault {
  return { ...fault, notApplicable: (traits) => (kinds.includes(traits.storage) ? fault.notApplicable?.(traits) : why) };
}

const METHOD_WORDS: Record<FaultMethod, string> = {
  'hypervisor-nic': "a hypervisor to cut a NIC's carrier",
  'machine-pause': "a hypervisor to pause the machine (a real machine's CPU cannot be stopped from outside)",
  'disk-hotplug': 'a hypervisor to unplug a disk from the running machine',
  'power-device-faults': "a power device the harness can kill, hang or slow (the lab's virtual BMC or PDU; a real BMC is not the harness's to break)",
  'own-kernel': "a kernel of the node's own (a container shares the host's: crashing it would crash the host)",
  'own-clock': "a clock of the node's own (a container reads the host's: stepping it would step the host's)",
  netem: "a kernel with tc netem for the node's NICs (a container has the host's kernel, and this host's has no netem)",
  'store-dm': "a device-mapper device under the store whose table a fault may swap (the lab's, under DRBD or each node's path to the shared disk, or one a target file names; a container has no device-mapper of its own: it would be the host's)",
};

const TARGET_WORDS: Record<TargetTraits['kind'], string> = { lab: 'lab', cluster: 'cluster', containers: 'container lane' };

/** The fault, on targets that have every method of `methods`; elsewhere not applicable, naming what is missing. */
export function needs(methods: FaultMethod[], fault: Fault): Fault {
  return {
    ...fault,
    notApplicable: (traits) => {
      const missing = methods.filter((m) => !traits.methods.includes(m));
      return missing.length ? `needs ${missing.map((m) => METHOD_WORDS[m]).join(' and ')}, which this ${TARGET_WORDS[traits.kind]} does not have` : fault.notApplicable?.(traits);
    },
  };
}
