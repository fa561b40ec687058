/**
 * Mail integrity: every message the server acknowledged with 250 is readable exactly once after
 * the run. A message whose send outcome is unknown (timeout, dropped connection) is reported on
 * its own: found or not, it is neither lost nor safe. A message the server definitely refused
 * must not appear.
 *
 * Reads are `read` operations whose ok value is `{account, protocol, ids}`: the message numbers
 * found in that account's mailbox (one entry per copy found). Each protocol (IMAP, POP3) is a
 * view of the store of its own, and each view must hold every acknowledged message exactly once.
 */
import type { Checker } from './checker.ts';
import { outcome, pairOperations } from '../history/operation.ts';
import type { Observations } from './observations.ts';

interface SendValue {
  id: number;
}
interface ReadValue {
  account: string;
  protocol?: string;
  ids: number[];
}

export const mailIntegrity: Checker<unknown, Partial<Pick<Observations, 'mailQueue'>> | undefined> = {
  name: 'mail-integrity',
  evidence: 'each send\'s SMTP reply (250 or not), and every mailbox read back over IMAP and over POP3 after the heal, the mail queue drained first',
  check({ history, observations }) {
    const pairs = pairOperations(history);
    const sends = pairs.filter((p) => p.invoke.f === 'send');
    const reads = pairs.filter((p) => p.invoke.f === 'read');
    if (reads.length === 0 || reads.some((r) => outcome(r) !== 'ok')) {
      const failed = reads.filter((r) => outcome(r) !== 'ok').map((r) => r.invoke.value as Partial<ReadValue>);
      return {
        valid: 'unknown',
        summary: 'the mailboxes were not all read back: integrity unknown',
        details: { reads: reads.length, notRead: failed.map((v) => `${v.protocol ?? 'imap'}:${v.account ?? '?'}`) },
      };
    }
    const views = new Map<string, Map<number, number>>();
    for (const r of reads) {
      const value = r.completion!.value as ReadValue;
      const copies = views.get(value.protocol ?? 'imap') ?? new Map<number, number>();
      views.set(value.protocol ?? 'imap', copies);
      for (const id of value.ids) copies.set(id, (copies.get(id) ?? 0) + 1);
    }

    const acked = sends.filter((s) => outcome(s) === 'ok').map((s) => (s.invoke.value as SendValue).id);
    const refused = sends.filter((s) => outcome(s) === 'fail').map((s) => (s.invoke.value as SendValue).id);
    const unknown = sends.filter((s) => outcome(s) === 'info').map((s) => (s.invoke.value as SendValue).id);
    const sent = new Set([...acked, ...refused, ...unknown]);

    const problems: string[] = [];
    const perProtocol: Record<string, unknown> = {};
    for (const [protocol, copies] of views) {
      const lost = acked.filter((id) => !copies.has(id));
      const duplicated = [...copies].filter(([, n]) => n > 1).map(([id]) => id);
      const refusedButDelivered = refused.filter((id) => copies.has(id));
      const unexpected = [...copies.keys()].filter((id) => !sent.has(id));
      const label = views.size > 1 ? `${protocol}: ` : '';
      problems.push(
        ...[
          lost.length ? `${label}${lost.length} acknowledged message(s) lost` : '',
          duplicated.length ? `${label}${duplicated.length} message(s) delivered more than once` : '',
          refusedButDelivered.length ? `${label}${refusedButDelivered.length} refused message(s) delivered` : '',
          unexpected.length ? `${label}${unexpected.length} message(s) never sent were found` : '',
        ].filter(Boolean),
      );
      perProtocol[protocol] = {
        unknownOutcome: { found: unknown.filter((id) => copies.has(id)), notFound: unknown.filter((id) => !copies.has(id)) },
        lost,
        duplicated,
        refusedButDelivered,
        unexpected,
      };
    }
    const queue = observations?.mailQueue;
    // Not a pardon: an acknowledged message must be readable after the run. A hint where to look.
    if (problems.some((p) => p.includes('lost')) && queue && !queue.drained) {
      problems.push(queue.queued > 0 ? `${queue.queued} message(s) were still in the mail queue at read-back` : 'the mail queue could not be read at read-back');
    }
    const details = { acknowledged: acked.length, refused: refused.length, unknownOutcome: unknown.length, protocols: perProtocol, ...(queue ? { mailQueue: queue } : {}) };
    if (acked.length === 0) return { valid: 'unknown', summary: 'no message was acknowledged: nothing to verify', details };
    const over = [...views.keys()].map((p) => p.toUpperCase()).join(' and ');
    return problems.length
      ? { valid: false, summary: problems.join('; '), details }
      : { valid: true, summary: `all ${acked.length} acknowledged messages read back exactly once over ${over} (${unknown.length} unknown outcomes reported apart)`, details };
  },
};
