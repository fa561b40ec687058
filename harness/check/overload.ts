/**
 * Whether the host, not the cluster, was the bottleneck of a run: Pacemaker throttled itself for
 * load, a guest's load average ran far over its vCPUs, the host's over its cores, or the host's
 * CPU was saturated through most of the failover. A failed
 * time verdict says so next to the outage: the cluster may be fine and the host too slow to
 * show it. Pure: tested on literal samples.
 */
import type { Observations } from './observations.ts';

/**
 * Over these, a run is called overloaded. Measured on a 2-core TCG host: five healthy power cuts
 * peaked at a guest load of 3.5-4.5 (the survivor's failover work) and a host load of 1.8-3.7;
 * a run beside a CPU-heavy job (host load 7-12) peaked at a guest load of 8.5.
 */
export const OVERLOAD = {
  /** A guest's 1-minute load per vCPU (the load budget of an idle guest is under 1.0). */
  guestLoadPerCpu: 6,
  /** The host's 1-minute load per core. */
  hostLoadPerCore: 2,
  /**
   * The share of the failover's host samples (fault to service back, at most 180 s) at 95% busy or
   * more. The load average lags by a minute and missed a run beside one CPU hog (host load 3.9 on
   * 2 cores, outage 155 s against 88 s): that run's host was >= 95% busy in 83% of its samples,
   * healthy power cuts on the same host in 33-47%.
   */
  hostSaturatedShare: 0.7,
} as const;

/** A host sample counts as saturated at this busy share or more. */
const SATURATED_PERCENT = 95;

export interface OverloadInput {
  observations: Pick<Observations, 'throttle' | 'load' | 'fault'> & Partial<Pick<Observations, 'phases'>>;
  vcpus: number;
  hostCores: number;
  /** From when on (host clock); default the fault. */
  since?: number;
}

/** The reasons to call a run overloaded, in words; empty when it was not. */
export function overloadReasons({ observations, vcpus, hostCores, since }: OverloadInput): string[] {
  const from = since ?? observations.fault.injectedAt - 60_000;
  const reasons: string[] = [];
  const throttle = (observations.throttle ?? []).filter((t) => t.at >= from);
  if (throttle.length) {
    const nodes = [...new Set(throttle.map((t) => t.node))].join(', ');
    reasons.push(`Pacemaker throttled itself for load ${throttle.length} time(s) on ${nodes} ("${throttle[0]!.text}")`);
  }
  const guests = (observations.load?.guests ?? []).filter((s) => s.time >= from);
  const worst = guests.reduce<(typeof guests)[number] | undefined>((a, b) => (!a || b.load1 > a.load1 ? b : a), undefined);
  if (worst && worst.load1 > OVERLOAD.guestLoadPerCpu * vcpus) reasons.push(`guest load on ${worst.node} reached ${worst.load1} (budget: under 1.0 idle, ${OVERLOAD.guestLoadPerCpu * vcpus} counts as overloaded for ${vcpus} vCPU)`);
  const host = (observations.load?.host ?? []).filter((s) => s.time >= from);
  const peak = Math.max(0, ...host.map((s) => s.load1));
  if (peak > OVERLOAD.hostLoadPerCore * hostCores) reasons.push(`host load reached ${peak.toFixed(2)} on ${hostCores} cores`);
  const failoverEnd = Math.min(observations.phases?.['service-answering'] ?? Infinity, observations.fault.injectedAt + 180_000);
  const busy = (observations.load?.host ?? []).filter((s) => s.time >= observations.fault.injectedAt && s.time <= failoverEnd && s.busyPercent !== undefined);
  const saturated = busy.filter((s) => s.busyPercent! >= SATURATED_PERCENT).length;
  if (busy.length >= 5 && saturated / busy.length >= OVERLOAD.hostSaturatedShare) {
    reasons.push(`the host's CPU was saturated (>= ${SATURATED_PERCENT}% busy) in ${saturated} of ${busy.length} samples of the failover`);
  }
  return reasons;
}
