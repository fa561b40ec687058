/** The built-in scenarios of the certification. */
import type { Scenario } from './scenario.ts';

const workload: Scenario['workload'] = { sendRate: 2, probeIntervalMs: 250, warmupSeconds: 15, recoveryTimeoutSeconds: 300, cooldownSeconds: 15 };

export const SCENARIOS: Record<string, Scenario> = {
  'power-cut-active': {
    name: 'power-cut-active',
    description: 'The active node loses power. The peer must fence it, promote DRBD, mount the store, take the IP and start mail; no acknowledged message may be lost.',
    fault: 'power-cut-active',
    expect: 'failover',
    slo: { maxOutageSeconds: 120 },
    workload,
  },
  'hard-reset-active': {
    name: 'hard-reset-active',
    description: 'The active node is hard-reset. The peer must fence it and take over; no acknowledged message may be lost.',
    fault: 'hard-reset-active',
    expect: 'failover',
    slo: { maxOutageSeconds: 120 },
    workload,
  },
};
