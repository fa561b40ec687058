/**
 * Before the mailboxes are read back, every message the server accepted should have left its
 * queue: a message deferred during a fault (a full disk, a store moving) is retried only after
 * the queue's backoff, minutes later. The run flushes the queue and waits (bounded) for it to
 * drain; what is still queued is reported, so a message "lost" at read-back can be told apart
 * from one still waiting in the queue.
 */
import type { Logger } from '../core/log.ts';
import { done, notYet, waitFor, WaitTimeoutError } from '../core/wait.ts';
import { mailServiceOf } from '../mail/mail.ts';
import type { StartedTarget } from '../session/target.ts';

export interface MailQueueState {
  drained: boolean;
  /** Messages still queued when the wait ended (0 when drained). */
  queued: number;
  waitedMs: number;
}

/** Parses `queued N` lines (one per node holding the store); undefined if no node reported. */
export function parseQueued(outputs: string[]): number | undefined {
  const counts = outputs.flatMap((o) => [...o.matchAll(/^queued (\d+)$/gm)].map((m) => Number(m[1])));
  return counts.length ? counts.reduce((a, b) => a + b, 0) : undefined;
}

export async function drainMailQueue(lab: StartedTarget, log: Logger, timeoutMs = 90_000, signal?: AbortSignal): Promise<MailQueueState | undefined> {
  const t0 = Date.now();
  const script = mailServiceOf(lab.plan).queueScript();
  if (script === null) {
    log.info(`the mail queue is not read for ${mailServiceOf(lab.plan).describe()}: the read-back does not wait on it`);
    return undefined;
  }
  let last: number | undefined;
  try {
    await waitFor(
      'the mail queue to drain (every accepted message delivered to its mailbox)',
      async () => {
        const outs = await Promise.all(lab.plan.nodes.map(async (n) => (await lab.ssh.root(n.name, script, { timeoutMs: 30_000, reject: false })).stdout));
        last = parseQueued(outs);
        if (last === 0) return done(true);
        return notYet(last === undefined ? 'no node with the mail store mounted answered' : `${last} message(s) queued`);
      },
      { timeoutMs, intervalMs: 2000, signal },
    );
    return { drained: true, queued: 0, waitedMs: Date.now() - t0 };
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    log.warn(`${error.message}; the read-back goes on, and what it misses may still be queued`);
    return { drained: false, queued: last ?? -1, waitedMs: Date.now() - t0 };
  }
}
