/**
 * Whether the host, not the cluster, was the bottleneck of a run: Pacemaker throttled itself for
 * load, a guest's load average ran far over its vCPUs, or the host's over its cores. A failed
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
} as const;

export interface OverloadInput {
  observations: Pick<Observations, 'throttle' | 'load' | 'fault'>;
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
  return reasons;
}
