/** The built-in scenarios of the certification. */
import type { Scenario } from './scenario.ts';

const workload: Scenario['workload'] = { sendRate: 2, probeIntervalMs: 250, warmupSeconds: 15, recoveryTimeoutSeconds: 300, cooldownSeconds: 15 };

export const SCENARIOS: Record<string, Scenario> = {
  'power-cut-active': {
    name: 'power-cut-active',
    description: 'The active node loses power. The peer must fence it, promote DRBD, mount the store, take the IP and start mail; no acknowledged message may be lost.',
    fault: 'power-cut-active',
    expect: 'failover',
    slo: { maxOutageSeconds: 180 },
    workload,
  },
  'hard-reset-active': {
    name: 'hard-reset-active',
    description: 'The active node is hard-reset. The peer must fence it and take over; no acknowledged message may be lost.',
    fault: 'hard-reset-active',
    expect: 'failover',
    slo: { maxOutageSeconds: 180 },
    workload,
  },
  'one-ring-loss-active': {
    name: 'one-ring-loss-active',
    description: 'The active node loses one of its two heartbeat NICs. Corosync must carry on over the other ring: no outage, no fencing.',
    fault: 'one-ring-loss-active',
    expect: 'no-outage',
    slo: { maxOutageSeconds: 0 },
    workload,
  },
  'kill-mail-service-active': {
    name: 'kill-mail-service-active',
    description: "The active node's Postfix master is killed (SIGKILL). The cluster must notice and recover the service, in place or on the peer.",
    fault: 'kill-mail-service-active',
    expect: 'recovery',
    slo: { maxOutageSeconds: 180 },
    workload,
  },
  'kill-corosync-active': {
    name: 'kill-corosync-active',
    description: "The active node's corosync is killed (SIGKILL). The peer must fence it and take over; no acknowledged message may be lost.",
    fault: 'kill-corosync-active',
    expect: 'failover',
    slo: { maxOutageSeconds: 180 },
    workload,
  },
};
