/** Convergence after heal: the lab is ready again (both nodes online, DRBD UpToDate/UpToDate after resync, no failed actions, services on one node) and no fault leftover remains. */
import type { Checker } from './checker.ts';
import type { Observations } from './observations.ts';

export const convergence: Checker<unknown, Observations> = {
  name: 'convergence',
  evidence: "the cluster's own readiness after the heal (crm_mon, the store, the virtual IP, SMTP and IMAP through it) and the fault's audit of what it changed",
  check({ observations }) {
    const c = observations.convergence;
    if (!c) return { valid: 'unknown', summary: 'convergence was not checked (the run was interrupted or the heal did not complete)', details: {} };
    return c.ok ? { valid: true, summary: 'the cluster converged after the heal', details: { unmet: [] } } : { valid: false, summary: `not converged: ${c.unmet.join('; ')}`, details: { unmet: c.unmet } };
  },
};
