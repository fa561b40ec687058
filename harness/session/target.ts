/**
 * The target seam: the cluster a run certifies, whoever built it. Two implementations: the
 * Vagrant lab (harness/lab/lab.ts: VMs, virtual BMCs or PDUs, the hypervisor beside them) and an
 * existing cluster described by a target file (harness/existing/existing-cluster.ts: machines
 * reached over SSH, powered through their real BMCs or PDUs, no hypervisor at all).
 *
 * A run needs of a target: a command as root on a node, the cluster's status, each node's power
 * device with its log, and the fault methods the target has. A fault declares the methods it needs
 * ({@link FaultMethod}); a target without one lists the fault as not applicable, never faked.
 */
import type { FenceDeviceSpec } from '../power/fence-resources.ts';
import type { FencingVerification } from '../power/fence-verify.ts';
import type { Logger } from '../core/log.ts';
import type { ExecResult } from '../core/exec.ts';
import type { NodeShell } from '../cluster/ssh.ts';
import type { ClusterStatus, Wedge } from '../cluster/status.ts';
import type { ClusterPlan, NicRole, StorageKind } from '../cluster/plan.ts';
import type { NodePower } from '../power/power-device.ts';

/**
 * A way of doing a fault that only some targets have. A fault lists what it needs; the target
 * lists what it has ({@link TargetTraits.methods}).
 */
export type FaultMethod =
  /** The hypervisor sets a NIC's carrier (a pulled cable); without it, NIC loss is done inside the node. */
  | 'hypervisor-nic'
  /** The hypervisor pauses the machine (every process and the kernel stop at once). */
  | 'machine-pause'
  /** The hypervisor unplugs a disk from the running machine. */
  | 'disk-hotplug'
  /** The power device itself can be killed, hung or slowed (the lab's virtual BMC or PDU). */
  | 'power-device-faults'
  /** The node has a kernel of its own to crash (a VM or a machine; a container shares the host's). */
  | 'own-kernel'
  /** The node has a clock of its own to step (a VM or a machine; a container reads the host's). */
  | 'own-clock'
  /** The node's kernel can shape its NICs' traffic (tc netem): Debian's can; a container has whatever the host's kernel has. */
  | 'netem'
  /** The store's disk sits on a device-mapper device whose table a disk fault may swap ({@link ClusterPlan.storeDm}). */
  | 'store-dm';

/** What faults need to know about a target before anything is started. */
export interface TargetTraits {
  kind: 'lab' | 'cluster' | 'containers';
  storage: StorageKind;
  methods: readonly FaultMethod[];
  /** In words, for `N/A` lines: "lab default (drbd, fence_ipmilan)". */
  describe: string;
}

/** How NIC loss is done on this target, and undone. */
export interface NicControl {
  /** In words, for the report: "carrier cut at the hypervisor", "ip link set down inside the node". */
  readonly method: string;
  cut(node: string, roles: readonly NicRole[], phase: string): Promise<void>;
  restore(node: string, roles: readonly NicRole[], phase: string): Promise<void>;
  /** Findings for the NICs of `roles` that are not up, in words. */
  leftovers(node: string, roles: readonly NicRole[]): Promise<string[]>;
}

/** The hypervisor's hold on a node's machine (the lab only). */
export interface MachineControl {
  /** running, paused, shut off, ... or `unknown (why)`. */
  state(node: string): Promise<string>;
  pause(node: string): Promise<void>;
  resume(node: string): Promise<void>;
  /** The disks of the node's machine: target (vdb) -> source. */
  disks(node: string): Promise<Record<string, string>>;
  unplugDisk(node: string, target: string): Promise<void>;
  plugDisk(node: string, source: string, target: string, options: { format: 'qcow2' | 'raw'; shared: boolean }): Promise<void>;
}

/** What convergence after a heal found, and the routine steps it took. */
export interface Convergence {
  ok: boolean;
  unmet: string[];
  actions: string[];
  seconds: number;
}

/** The architecture in words, for status and reports. */
export interface Architecture {
  storage: string;
  power: Record<string, string>;
  nicFaults: string;
  /** Where a fault is done by an equivalent (the container lane), what it is, fault kind -> words. */
  equivalents?: Record<string, string>;
}

/** A target that is up: its nodes answer over SSH and its power devices are reachable. */
export interface StartedTarget {
  /** What faults need to know: kind, storage, the fault methods it has. */
  readonly traits: TargetTraits;
  /** The cluster's layout: nodes, NICs, store, virtual IP, mail domain and service. */
  readonly plan: ClusterPlan;
  /** A root shell on each node (SSH, or docker exec on the lane). */
  readonly ssh: NodeShell;
  /** Each node's power device(s), in node order. */
  readonly power: NodePower[];
  /** How the nodes run: `kvm` or `tcg` for the lab's VMs, `hardware` for machines the harness did not make, `container` for the container lane. */
  readonly accel: 'kvm' | 'tcg' | 'hardware' | 'container';
  /** How NIC loss is done here (at the hypervisor, inside the node, on a container's veth). */
  readonly nics: NicControl;
  /** The hypervisor (the lab only): a fault that needs it is not applicable elsewhere. */
  readonly machines?: MachineControl;
  /** The target's log (secrets redacted). */
  readonly log: Logger;
  /** The test accounts and their passwords (registered secrets). */
  accounts(): Record<string, string>;
  /** Every secret of the target, for tests that prove none leaks. */
  secretValues(): string[];
  /** The power device(s) of `node`; throws for a node the target does not have. */
  powerOf(node: string): NodePower;
  /** The architecture in words, for status and reports. */
  architecture(): Architecture;
  /** Runs a bash script as root on a node (bounded); rejects with the node's error. */
  root(node: string, script: string, timeoutMs?: number, signal?: AbortSignal): Promise<ExecResult>;
  /** Every fact `lab status` reports, read now; an unreachable part is said, never thrown. */
  status(): Promise<ClusterStatus>;
  /** The readiness conditions `status` does not meet, in words (the store's included); empty when ready. */
  unmet(status: ClusterStatus): string[];
  /** Failed actions found now: recorded in {@link clearedFailures}, cleared once with one bounded cleanup. */
  clearFailures(when: string, signal?: AbortSignal): Promise<Wedge[]>;
  /** Every cleanup this session made, with when and why: a run reports them. */
  readonly clearedFailures: Array<Wedge & { when: string; at: string }>;
  /**
   * Waits (bounded) until the cluster is ready: settled, two reads agreeing, and with
   * `verifyFencing`, each node's fence device logged into and its identity checked. `cleanups`
   * failed actions may be cleared on the way (recorded); more is a wedge, thrown with its fix.
   */
  waitReady(timeoutMs: number, signal?: AbortSignal, options?: { cleanups?: number; started?: string[]; verifyFencing?: { expected?: readonly FenceDeviceSpec[] } }): Promise<ClusterStatus>;
  /** Observed, not repaired: waits (bounded) for the cluster to be ready by itself. */
  converge(timeoutMs: number, signal?: AbortSignal): Promise<Convergence>;
  /** What the target checked before the first fault (an existing cluster's pre-flight), for run.json. */
  readonly preflight?: Record<string, unknown>;
  /** What the last readiness found when it verified fencing (fence-verify.ts): each device's login and identity. */
  readonly fencingVerification?: FencingVerification & { at: string };
}

/**
 * What a fault may use of a started target: the layout, a root shell, NIC and machine control, and
 * each node's power. Nothing else: the fault contract test's fake (test/fake-target.ts) is exactly
 * this, so a fault that reached for more would not compile there.
 */
export type FaultTarget = Pick<StartedTarget, 'plan' | 'ssh' | 'root' | 'nics' | 'machines' | 'power' | 'powerOf'>;

/** A target not started yet: the lab before `lab up`, or a target file read and validated. */
export interface Target {
  /** What faults need to know before anything starts: kind, storage, the fault methods it has. */
  readonly traits: TargetTraits;
  /** The lab's name, or the target file's cluster name. */
  readonly name: string;
  /** The target's log (secrets redacted). */
  readonly log: Logger;
  /** Recorded in run.json: what a replay needs (no secret). */
  readonly record: { lab?: unknown; target?: unknown };
  /** Longest wait for the cluster to be ready again after a heal, ms. */
  readonly clusterReadyMs: number;
  /** vCPUs per node when known (the lab), for the overload judgement. */
  readonly vcpus?: number;
  /** The SLO baseline of this target on this host, or why there is none. */
  baseline(): { baseline?: import('../calibrate/baseline.ts').Baseline; why?: string };
  /** Starts what is not running (or connects to it) and resolves when it is ready; bounded. */
  up(options?: { signal?: AbortSignal }): Promise<StartedTarget>;
  /**
   * Ends the harness's hold on the target after a certification, on success, failure and Ctrl-C:
   * an existing cluster's polls and connections, the container lane with everything it made; the
   * lab stays up for the next command (`lab down` removes it).
   */
  release(): Promise<void>;
}
