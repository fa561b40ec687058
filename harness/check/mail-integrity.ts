/**
 * Mail integrity: every message the server acknowledged with 250 is readable exactly once after
 * the run. A message whose send outcome is unknown (timeout, dropped connection) is reported on
 * its own: found or not, it is neither lost nor safe. A message the server definitely refused
 * must not appear.
 *
 * Reads are `reader` operations whose ok value is `{account, ids}`: the message numbers found in
 * that account's mailbox (one entry per copy found).
 */
import type { Checker } from './checker.ts';
import { outcome, pairOperations } from '../history/operation.ts';

interface SendValue {
  id: number;
}
interface ReadValue {
  account: string;
  ids: number[];
}

export const mailIntegrity: Checker = {
  name: 'mail-integrity',
  check({ history }) {
    const pairs = pairOperations(history);
    const sends = pairs.filter((p) => p.invoke.f === 'send');
    const reads = pairs.filter((p) => p.invoke.f === 'read');
    if (reads.length === 0 || reads.some((r) => outcome(r) !== 'ok')) {
      return { valid: 'unknown', summary: 'the mailboxes were not all read back: integrity unknown', details: { reads: reads.length } };
    }
    const copies = new Map<number, number>();
    for (const r of reads) for (const id of (r.completion!.value as ReadValue).ids) copies.set(id, (copies.get(id) ?? 0) + 1);

    const acked = sends.filter((s) => outcome(s) === 'ok').map((s) => (s.invoke.value as SendValue).id);
    const refused = sends.filter((s) => outcome(s) === 'fail').map((s) => (s.invoke.value as SendValue).id);
    const unknown = sends.filter((s) => outcome(s) === 'info').map((s) => (s.invoke.value as SendValue).id);

    const lost = acked.filter((id) => !copies.has(id));
    const duplicated = [...copies].filter(([, n]) => n > 1).map(([id]) => id);
    const refusedButDelivered = refused.filter((id) => copies.has(id));
    const sent = new Set([...acked, ...refused, ...unknown]);
    const unexpected = [...copies.keys()].filter((id) => !sent.has(id));
    const unknownFound = unknown.filter((id) => copies.has(id));

    const problems = [
      lost.length ? `${lost.length} acknowledged message(s) lost` : '',
      duplicated.length ? `${duplicated.length} message(s) delivered more than once` : '',
      refusedButDelivered.length ? `${refusedButDelivered.length} refused message(s) delivered` : '',
      unexpected.length ? `${unexpected.length} message(s) never sent were found` : '',
    ].filter(Boolean);
    const details = {
      acknowledged: acked.length,
      refused: refused.length,
      unknownOutcome: { count: unknown.length, found: unknownFound, notFound: unknown.filter((id) => !copies.has(id)) },
      lost,
      duplicated,
      refusedButDelivered,
      unexpected,
    };
    if (acked.length === 0) return { valid: 'unknown', summary: 'no message was acknowledged: nothing to verify', details };
    return problems.length
      ? { valid: false, summary: problems.join('; '), details }
      : { valid: true, summary: `all ${acked.length} acknowledged messages read back exactly once (${unknown.length} unknown outcomes reported apart)`, details };
  },
};
