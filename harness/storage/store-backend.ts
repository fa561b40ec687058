/**
 * The storage seam's contract: how the mail store is built and kept, as the lab's provisioning, bootstrap,
 * Pacemaker configuration and readiness see it. Axigen's architecture names two: local disks
 * replicated by DRBD (`drbd`, harness/storage/drbd.ts), or one external disk attached to both
 * nodes (`shared`, harness/storage/shared.ts). Each is one implementation of {@link StoreBackend}; the lab
 * asks {@link storeOf} for the one its config names and never branches on the kind itself.
 */
import type { LabPlan } from '../cluster/lab-config.ts';
import type { ClusterStatus } from '../cluster/status.ts';
import type { StorageKind, ClusterNode } from '../cluster/plan.ts';
import type { VersionProbe } from '../cluster/versions.ts';
import type { Logger } from '../core/log.ts';

/** Runs a root script on a node during the bootstrap; rejects with the node's error. */
export type RootRunner = (node: string, script: string, timeoutMs: number) => Promise<{ stdout: string }>;

/** What a store's bootstrap may use: the nodes, a root runner, and the rendered file-system setup. */
export interface BootstrapContext {
  plan: LabPlan;
  root: RootRunner;
  /** Lays out the mail store on a mounted file system (directories, the Postfix queue): the mail service's part. */
  layout: string;
  signal?: AbortSignal;
}

/** A disk Vagrant attaches to each node (vagrant-libvirt `storage :file`). */
export interface VagrantDisk {
  sizeGiB: number;
  type: 'qcow2' | 'raw';
  /** A volume the host made before `vagrant up` (then Vagrant attaches it and never removes it). */
  volume?: string;
  shareable?: boolean;
  cache?: 'none';
}

/** A volume in libvirt's default pool that the host makes before `vagrant up`. */
export interface HostVolume {
  name: string;
  sizeGiB: number;
  format: 'raw';
}

/** What a node's watcher stream runs for the store: background streams, snapshot lines, and their end. */
export interface StoreWatch {
  /** Background commands whose lines report store changes (each ends with `& <var>=$!`). */
  streams: string[];
  /** Lines of the snapshot, between `@@snapshot` and `@@end-snapshot`. */
  snapshot: string[];
  /** What stops the streams. */
  stop: string[];
  /** A stream line as a change of the store on its node (node clock, epoch ms); undefined when the line is not the store's. */
  parseLine(line: string): StoreChange | undefined;
  /** The snapshot's lines as the node's store state; nothing is made up for a line that is missing. */
  parseSnapshot(lines: readonly string[]): StoreSnapshot;
}

/** A change of the store a node's stream reported. */
export type StoreChange = { kind: 'drbd'; time: number; role?: string; disk?: string } | { kind: 'mount'; time: number; mounted: boolean };

/** The store's state on a node, as a snapshot reports it. */
export interface StoreSnapshot {
  drbdRole?: string;
  drbdDisk?: string;
  storeMounted?: boolean;
}

/** Epoch seconds with a fraction (`$EPOCHREALTIME`, journalctl's short-unix) as epoch ms. */
export const epochMs = (seconds: string): number => Math.round(Number(seconds) * 1000 * 1000) / 1000;

export interface StoreBackend {
  /** Which architecture this is (a plan's `storage`). */
  readonly kind: StorageKind;
  /** In words, for the report and `lab status`. */
  describe(plan: LabPlan): string;
  /** The store's disks on each node. */
  disks(plan: LabPlan): VagrantDisk[];
  /** Volumes the host makes before the VMs are created (a shared disk). */
  hostVolumes(plan: LabPlan): HostVolume[];
  /** What the watcher streams from each node about the store. */
  watch(): StoreWatch;
  /** Lines of each node's provisioning script (resource files, kernel modules); `file` renders a heredoc. */
  provision(plan: LabPlan, file: (path: string, content: string, mode?: string) => string): string[];
  /**
   * The one-time bootstrap before the cluster stack starts: makes the store (and its file
   * system, laid out by `layout`), then leaves it to Pacemaker (nothing mounted, nothing promoted).
   */
  bootstrap(ctx: BootstrapContext): Promise<void>;
  /** What every node runs just before it starts the cluster stack (hand the store to Pacemaker). */
  beforeClusterStart(): string[];
  /**
   * The store's Pacemaker resources (crm shell), the id the mail group must run with (and after),
   * and the constraints tying `group` to it. `ops` renders ` op ...` clauses with explicit timeouts.
   */
  cib(plan: LabPlan, group: string): { resources: string[]; constraints: string[]; fileSystem: string };
  /** The store's readiness in `status`, unmet conditions in words (empty when ready). */
  unmet(status: ClusterStatus, nodes: readonly string[]): string[];
  /** Shell lines printing the store's state on a node (read as root), for {@link readStatus}. */
  statusScript(): string;
  /** Reads what {@link statusScript} printed on `node` into `status`. */
  readStatus(status: ClusterStatus, node: string, output: string): void;
  /** A node's store in words, for `lab status` and the pre-flight record. */
  describeNode(status: ClusterStatus, node: string): string;
  /** Words for verdicts: what being primary is ("DRBD Primary"), what a takeover did ("promoted"). */
  readonly words: { primary: string; tookOver: string };
  /** Resource ids of the store that run on every node (not the mail service). */
  isStoreResource(id: string): boolean;
  /**
   * The one definition of "a node took the store over" (the fencing checker's takeover, the
   * takeovers in the observations): a line of that node's Pacemaker log. For DRBD, a successful
   * promote (the node's copy becomes writable).
   */
  readonly takeover: RegExp;
  /** The failover phase the takeover is, when it is not one of the common ones (DRBD: `drbd-promoted`); null for none. */
  readonly takeoverPhase: string | null;
  /** Whether the store replicates over a link of its own (the nodes' `replication` NIC). */
  readonly replicationLink: boolean;
  /** The device the mail store's file system lives on, as the nodes see it. */
  device(node: ClusterNode): string;
  /** The store's own software versions a run records (DRBD's kernel module); none for a plain disk. */
  readonly versions: readonly VersionProbe[];
  /**
   * Compares the copies of the store online after a run has converged (DRBD's `verify`), bounded;
   * absent where there is one copy (a shared disk).
   */
  verify?(ctx: VerifyContext): Promise<StoreVerification>;
  /** Applies a changed store configuration to a running cluster (`drbdadm adjust`), or null. */
  reloadScript(): string | null;
}

export type StoreVerification =
  | { ran: true; node: string; seconds: number; outOfSyncKiB: number; blocksOutOfSync: number; ranges: string[]; rangesTotal: number }
  | { ran: false; node: string; why: string };

export interface VerifyContext {
  root: RootRunner;
  /** The node the verify starts on (the primary: its peer is the verify target). */
  node: string;
  log: Logger;
  /** How long the verify may take (it reads the whole disk on both nodes). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The verify in words for the convergence check: undefined when the copies are identical. Pure. */
export function verifyProblem(v: StoreVerification): string | undefined {
  if (!v.ran) return undefined;
  if (v.outOfSyncKiB === 0 && v.blocksOutOfSync === 0) return undefined;
  const more = v.rangesTotal > v.ranges.length ? ` and ${v.rangesTotal - v.ranges.length} more` : '';
  return `the online verify found the store's two copies different: ${v.outOfSyncKiB} KiB out of sync (${v.blocksOutOfSync} 4 KiB block(s))${v.ranges.length ? `, sectors ${v.ranges.join('; ')}${more}` : ''} (kernel log of ${v.node})`;
}
