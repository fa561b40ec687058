/**
 * A scenario is a plain value: which fault, what the cluster must do about it, the workload that
 * runs meanwhile, and the service-level objective the verdict is held to.
 */

/**
 * The faults a scenario can inject: the one list of them. The catalogue (harness/faults/catalog.ts)
 * must implement every one (a missing one does not compile), and schemas/scenario.schema.json's
 * enum is checked against it (test/scenario/fault-kinds.test.ts).
 */
export const FAULT_KINDS = [
  'power-cut-active',
  'hard-reset-active',
  'heartbeat-loss-active',
  'one-ring-loss-active',
  'kill-mail-service-active',
  'kill-corosync-active',
  'freeze-active',
  'kernel-panic-active',
  'replication-loss-active',
  'client-nic-loss-active',
  'power-cut-bmc-dead-active',
  'power-cut-slow-bmc-active',
  'heartbeat-degraded-active',
  'disk-full-active',
  'clock-jump-active',
  'replication-loss-then-power-cut-active',
  'disk-death-active',
  'one-ring-one-way-loss-active',
  'kill-pacemaker-controller-active',
  'store-path-loss-active',
  'power-loss-active',
  'disk-bad-sectors-active',
  'disk-write-errors-active',
  'disk-dropped-writes-passive',
  'disk-slow-active',
  'disk-hung-active',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A node's fence device kinds, sorted and joined: `ipmi`, `pdu`, or `ipmi+pdu` for a topology with both. */
export type FencingKinds = 'ipmi' | 'pdu' | 'ipmi+pdu';

/** What a scenario expects of a cluster whose faulted node is fenced by `kinds`, and why. Pure. */
export function expectationFor(scenario: Scenario, kinds: FencingKinds): { scenario: Scenario; because: string; weakness?: string } {
  const override = scenario.expectWithFencing?.[kinds];
  if (!override) return { scenario, because: `${scenario.expect}, whatever fences the node` };
  const workload = override.recoveryTimeoutSeconds === undefined ? scenario.workload : { ...scenario.workload, recoveryTimeoutSeconds: override.recoveryTimeoutSeconds };
  return {
    scenario: { ...scenario, expect: override.expect, workload },
    because: `${override.expect}, because the node is fenced through ${kinds === 'ipmi' ? 'its BMC only' : kinds === 'pdu' ? 'a power switch' : 'its BMC and a power switch'}`,
    ...(override.weakness ? { weakness: override.weakness } : {}),
  };
}

/** What a correct cluster does about the fault. */
export type Expectation =
  /** The active node is fenced and the peer takes over. */
  | 'failover'
  /** The service never stops. */
  | 'no-outage'
  /** The service may stop briefly and come back on either node, without fencing being required. */
  | 'recovery'
  /**
   * The peer must not take over (its copy of the store is outdated): the service stays down until
   * the failed node is back. The run watches `workload.recoveryTimeoutSeconds` for a takeover.
   */
  | 'no-takeover';

export interface Scenario {
  name: string;
  description: string;
  fault: FaultKind;
  expect: Expectation;
  /**
   * Where the right outcome depends on how the failed node is fenced: the expectation for a
   * fencing topology (the fence device kinds of the faulted node, `ipmi`, `pdu`, `ipmi+pdu`),
   * and the architecture's weakness that outcome shows, named in the verdict.
   */
  expectWithFencing?: Partial<Record<FencingKinds, { expect: Expectation; weakness?: string; recoveryTimeoutSeconds?: number }>>;
  /**
   * A held fault is released this many seconds after it is injected: what passes on its own in
   * the field (a BMC comes back, congestion ends). Without it the fault lasts until the heal.
   */
  holdSeconds?: number;
  /**
   * `expected`: the fault makes the store's copies differ behind the cluster's back (a disk that
   * drops writes), which no one but the online verify can see: the verify must find the blocks,
   * the fault's repair then resyncs the bad copy, and a second verify must find them identical.
   */
  storeDifferences?: 'expected';
  slo: {
    /** Longest allowed client-visible outage, seconds (absolute: for KVM or real hardware, or a lab not calibrated). */
    maxOutageSeconds: number;
    /**
     * Relative to the lab's calibrated baseline (the healthy power cut on this host): at most
     * `factor` times its median outage, plus `extraSeconds` the scenario adds on purpose (a BMC
     * held dead). An emulated lab uses it once calibrated (harness/calibrate/baseline.ts).
     */
    relative?: { factor: number; extraSeconds?: number };
  };
  workload: {
    /** Messages sent per second in total (SMTP through the virtual IP). */
    sendRate: number;
    /** Availability probe interval (SMTP greeting and IMAP login), ms; at most 250. */
    probeIntervalMs: number;
    /** Seconds of workload before the fault. */
    warmupSeconds: number;
    /** The fault hits at warmupSeconds plus a seeded draw in [0, this); default 5. */
    injectJitterSeconds?: number;
    /** Longest time to wait for the service to come back after the fault. */
    recoveryTimeoutSeconds: number;
    /** Seconds of workload after the service is back. */
    cooldownSeconds: number;
  };
}
