/** Convergence after heal: the lab is ready again (both nodes online, DRBD UpToDate/UpToDate after resync, no failed actions, services on one node), no fault leftover remains, and the store's two copies are identical (DRBD's online verify). */
import type { Checker } from './checker.ts';
import type { Observations } from './observations.ts';
import { verifyProblem } from '../storage/store-backend.ts';

export const convergence: Checker<unknown, Observations> = {
  name: 'convergence',
  evidence: "the cluster's own readiness after the heal (crm_mon, the store, the virtual IP, SMTP and IMAP through it), the fault's audit of what it changed, and the store's online verify (DRBD: the two copies compared block by block)",
  check({ observations }) {
    const c = observations.convergence;
    if (!c) return { valid: 'unknown', summary: 'convergence was not checked (the run was interrupted or the heal did not complete)', details: {} };
    if (!c.ok) return { valid: false, summary: `not converged: ${c.unmet.join('; ')}`, details: { unmet: c.unmet, ...(c.verify ? { verify: c.verify } : {}) } };
    // Converged, but two copies never compared: the evidence that they are identical is missing.
    if (c.verify && !c.verify.ran) return { valid: 'unknown', summary: `the cluster converged after the heal, but the store's two copies were not compared: ${c.verify.why}`, details: { unmet: [], verify: c.verify } };
    const verified = c.verify?.ran ? `the online verify found the two copies identical (${c.verify.seconds} s on ${c.verify.node})` : '';
    const expected = c.expectedDifferences;
    // A fault that makes the copies differ behind DRBD's back: found by the verify, as it must be, then repaired.
    const found = expected ? `; as the fault makes them, ${verifyProblem(expected.verify) ?? 'the copies differed'}; ${expected.repair}; then ` : verified ? '; ' : '';
    return { valid: true, summary: `the cluster converged after the heal${found}${verified}`, details: { unmet: [], ...(c.verify ? { verify: c.verify } : {}), ...(expected ? { expectedDifferences: expected } : {}) } };
  },
};
