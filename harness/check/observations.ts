/**
 * What the observers saw during a run, besides the history: all times are host-clock epoch ms
 * (node timestamps are mapped with each node's measured clock offset before they land here).
 */
import type { StoreVerification } from '../storage/store-backend.ts';
import { poweredAt, powerLosses, type PowerEvent, type PowerLossOptions } from '../power/power-log.ts';

/** The fault under test. */
export interface FaultObservation {
  name: string;
  /** The node the fault hit. */
  node: string;
  injectedAt: number;
  /** A held fault's release (scenario `holdSeconds`): when it began, the first moment a device it held down may answer again. */
  releasedAt?: number;
  /** When that release had finished (every device it held down answering). */
  releaseDoneAt?: number;
  healedAt?: number;
}

/** A fencing operation as the cluster's fencer recorded it (`stonith_admin --history`). */
export interface FenceEvent {
  target: string;
  action: string;
  /** `success`, `failed`, `pending`. */
  status: string;
  /** Which node executed it. */
  delegate?: string;
  completedAt: number;
}

/** The mail queue before the read-back: drained, or how many messages were still in it (-1: unknown). */
export interface MailQueueObservation {
  drained: boolean;
  queued: number;
  waitedMs: number;
  error?: string;
}

/** A DRBD role change to Primary (from the node's kernel log). */
export interface Takeover {
  node: string;
  at: number;
}

/** One request a node's power device carried out or refused (its BMC's chassis control, or a PDU outlet). */
export type PowerLogEvent = PowerEvent;

/**
 * A node's whole watched state from `time` on, as the watcher's stream reported it: a snapshot
 * (stream opened), an event (a change), or `lost` (the stream broke: the state since is unknown
 * until the next snapshot; `reachable: false`).
 */
export interface NodeSample {
  time: number;
  node: string;
  reachable: boolean;
  source?: 'snapshot' | 'drbd' | 'mount' | 'vip' | 'lost';
  drbdRole?: string;
  drbdDisk?: string;
  /** Shared storage: whether the store was mounted on the node. */
  storeMounted?: boolean;
  holdsVip?: boolean;
}

/** The SLO a run's failover time was held to: absolute (the scenario's seconds) or relative to the lab's calibrated baseline. */
export interface AppliedSlo {
  maxOutageSeconds: number;
  kind: 'absolute' | 'relative';
  /** In words, e.g. "1.5 x the calibrated baseline 48.2 s (power-cut-active, 5 runs, 2026-12-01)". */
  basis: string;
}

/** A node's load as its watcher stream reported it (every few seconds), host clock. */
export interface LoadSample {
  node: string;
  time: number;
  load1: number;
  /** The guest's busy share of its CPU since the previous report, percent. */
  busyPercent?: number;
}

/**
 * The moments `node` lost all power, from the power devices' logs and the node's supplies (the
 * one definition: see power/power-log.ts). `resets: false` counts only real power-offs.
 */
export function nodePowerLosses(observations: Pick<Observations, 'powerLog' | 'powerSupplies' | 'powerAtStart'>, node: string, resets = true): number[] {
  return powerLosses(observations.powerLog, node, { ...powerOptions(observations, node), resets });
}

/** `node`'s supplies and their power at the run's start, as the power log's replay wants them. */
function powerOptions(observations: Pick<Observations, 'powerSupplies' | 'powerAtStart'>, node: string): PowerLossOptions {
  const start = observations.powerAtStart;
  return { supplies: observations.powerSupplies?.[node], ...(start ? { start: { at: start.at, supplies: start.nodes[node] ?? {} } } : {}) };
}

/** Whether `node` had power at `at`, by its power devices' logs from the run's start (see power/power-log.ts). */
export function nodePoweredAt(observations: Pick<Observations, 'powerLog' | 'powerSupplies' | 'powerAtStart'>, node: string, at: number): boolean {
  return poweredAt(observations.powerLog, node, at, powerOptions(observations, node));
}

/** A node's state at a moment, from the evidence: `off` (its power device shows no power), `unreachable` (its event stream was lost), or `up`. */
export interface NodeUpState {
  node: string;
  state: 'up' | 'off' | 'unreachable';
  /** Since when it has been in that state (host clock), as far as the evidence shows. */
  since?: number;
}

/**
 * Each node's state at `at`: off by its power device's log, unreachable by its watcher stream
 * (the last sample before `at` was a lost stream), else up. Pure.
 */
export function nodeStatesAt(observations: Pick<Observations, 'powerLog' | 'powerSupplies' | 'powerAtStart' | 'samples'>, nodes: readonly string[], at: number): NodeUpState[] {
  return nodes.map((node) => {
    if (!nodePoweredAt(observations, node, at)) {
      const off = nodePowerLosses(observations, node, false).filter((t) => t <= at).at(-1);
      return { node, state: 'off', ...(off !== undefined ? { since: off } : {}) };
    }
    const mine = observations.samples.filter((s) => s.node === node && s.time <= at);
    const last = mine.at(-1);
    if (last && !last.reachable) {
      let since = last.time;
      for (let i = mine.length - 1; i >= 0 && !mine[i]!.reachable; i--) since = mine[i]!.time;
      return { node, state: 'unreachable', since };
    }
    return { node, state: 'up' };
  });
}

/** The cluster's nodes as the evidence names them (power at the start, power logs, event streams). Pure. */
export function clusterNodes(observations: Pick<Observations, 'powerLog' | 'powerAtStart' | 'samples'>): string[] {
  return [...new Set([...Object.keys(observations.powerAtStart?.nodes ?? {}), ...observations.powerLog.map((e) => e.node), ...observations.samples.map((s) => s.node)])].sort();
}

/** The moment from which no node was up, if none was at `at` (the latest of their `since`). Pure. */
export function noNodeUpSince(states: readonly NodeUpState[]): number | undefined {
  if (!states.length || states.some((s) => s.state === 'up')) return undefined;
  return Math.max(...states.map((s) => s.since ?? -Infinity));
}

/** The states in words, relative to `origin` (the fault): `node1 off since +12.3 s (its power device), node2 unreachable since +40.1 s`. */
export function describeNodeStates(states: readonly NodeUpState[], origin: number): string {
  const when = (t?: number) => (t === undefined || !Number.isFinite(t) ? '' : ` since ${t >= origin ? '+' : ''}${((t - origin) / 1000).toFixed(1)} s`);
  return states.map((s) => `${s.node} ${s.state === 'off' ? `off${when(s.since)} (its power device's log)` : s.state === 'unreachable' ? `unreachable${when(s.since)} (its event stream was lost)` : 'up'}`).join(', ');
}

/** Each node's power supplies as their devices reported them when the run began (host clock): the start of the run's power truth. */
export interface PowerAtStart {
  at: number;
  nodes: Record<string, Record<string, 'on' | 'off' | 'unknown'>>;
}

export interface Observations {
  fault: FaultObservation;
  fenceEvents: FenceEvent[];
  takeovers: Takeover[];
  /** Every power request of every node's power device (BMC chassis control, or PDU outlets with `supply`), host clock. */
  powerLog: PowerLogEvent[];
  /** Each node's power supplies (`bmc`, or PDU outlets such as `pdu1:1`); absent: one BMC each. */
  powerSupplies?: Record<string, string[]>;
  /** Each supply's power as its device said when the run began: power losses are judged from there, never from before the run. */
  powerAtStart?: PowerAtStart;
  /** Pacemaker's starts of a mail resource after the fault, on any node (the failed one included: an in-place restart). */
  mailStarts?: { node: string; resource: string; at: number }[];
  /** The power fence devices of each node, as the cluster holds them (its CIB, verified before the run). */
  fenceDevices?: Record<string, string[]>;
  /** The lab's store: what a takeover is (DRBD promote, or the shared disk mounted). */
  store?: 'drbd' | 'shared';
  samples: NodeSample[];
  /** The lab's readiness after the heal, observed (`actions`: the routine steps taken, e.g. starting a rebooted node's cluster stack). */
  convergence?: {
    ok: boolean;
    unmet: string[];
    checkedAt: number;
    actions?: string[];
    verify?: StoreVerification;
    /** A fault that makes the copies differ (scenario `storeDifferences: expected`): the verify that found it, and the repair made before `verify` ran again. */
    expectedDifferences?: { verify: StoreVerification; repair: string };
  };
  /** The kernels' own lines about the store's disk from the fault on (DRBD, device-mapper, I/O errors), from the journals. */
  diskKernel?: { node: string; at: number; text: string }[];
  /** Pacemaker throttling itself for load (from the journals). */
  throttle?: { node: string; at: number; text: string }[];
  /** The guests' load reports (watcher streams) and the host's, during the run. */
  load?: { guests: LoadSample[]; host: { time: number; load1: number; busyPercent?: number }[] };
  /** The SLO the failover time was held to, and why that one. */
  slo?: AppliedSlo;
  /** Signs that the host, not the cluster, was the bottleneck (see check/overload.ts). */
  overload?: { reasons: string[] };
  /** Named moments of the failover (detected, fence requested...), host clock. */
  phases: Record<string, number>;
  /** The mail queue when the read-back began. */
  mailQueue?: MailQueueObservation;
}

/** Each failover phase as seconds after the fault (two decimals): the one conversion the verdict, results.json and the timeline use. Pure. */
export function phasesAfterFault(observations: Pick<Observations, 'phases' | 'fault'>): Record<string, number> {
  return Object.fromEntries(Object.entries(observations.phases).map(([k, v]) => [k, Number(((v - observations.fault.injectedAt) / 1000).toFixed(2))]));
}
