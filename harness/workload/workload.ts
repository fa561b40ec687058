/**
 * The mail workload: SMTP senders deliver uniquely numbered messages through the virtual IP at a
 * fixed rate, availability probes (SMTP greeting, IMAP login) run every few hundred ms, and after
 * the run readers fetch every mailbox back, over IMAP and over POP3. Every operation lands in the history:
 * sends complete ok (250), fail (definite rejection) or info (unknown: timeout, lost connection).
 */
import type { History } from '../history/history.ts';
import type { Logger } from '../core/log.ts';
import { sleep } from '../core/wait.ts';
import type { SeededRandom } from '../core/random.ts';
import { describeMailError, sendDefinitelyFailed, listInbox, listMaildropPop3, smtpSender } from './mail-client.ts';
import { ImapProbeSession, SmtpProbeSession, type ProbeSession } from './probes.ts';

export interface WorkloadOptions {
  host: string;
  domain: string;
  /** Account name -> password. */
  accounts: Record<string, string>;
  history: History;
  /** Tags every subject, so runs on the same lab never mix: `ha-chaos <tag> msg <n>`. */
  tag: string;
  sendRate: number;
  probeIntervalMs: number;
  /** Chooses each message's account; seeded, so a replay sends the same messages to the same accounts. */
  random: SeededRandom;
  log: Logger;
  /** The name an account logs in with (Axigen: `user@domain`); default: the account's name. */
  loginOf?: (account: string) => string;
}

const SEND_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Each probe opens a new session (connect, greeting, IMAP login) at least this often; NOOPs in between. */
const FRESH_SESSION_MS = 10_000;

/** Parses a workload subject back into its message number (for this run's tag only). */
export function messageNumber(subject: string, tag: string): number | undefined {
  const m = new RegExp(`^ha-chaos ${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} msg (\\d+)$`).exec(subject);
  return m ? Number(m[1]) : undefined;
}

export class MailWorkload {
  private running = false;
  private loops: Promise<void>[] = [];
  private nextId = 1;
  private stopController = new AbortController();

  constructor(private readonly options: WorkloadOptions) {}

  private get accountNames(): string[] {
    return Object.keys(this.options.accounts);
  }

  /** The login name of an account, as the mail service resolves it. */
  private login(account: string): string {
    return this.options.loginOf?.(account) ?? account;
  }

  /** Starts the sender and the probes. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const session = { host: this.options.host, timeoutMs: PROBE_TIMEOUT_MS, freshEveryMs: FRESH_SESSION_MS };
    const [user, password] = Object.entries(this.options.accounts)[0]!;
    this.loops = [this.sender('smtp-1'), this.probe('probe-smtp', new SmtpProbeSession(session)), this.probe('probe-imap', new ImapProbeSession(session, this.login(user), password))];
    this.options.log.info('workload started', { sendRate: this.options.sendRate, probeIntervalMs: this.options.probeIntervalMs });
  }

  /** Stops every loop and waits for in-flight operations to complete (each is bounded). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort();
    await Promise.allSettled(this.loops);
    this.options.log.info('workload stopped', { sent: this.nextId - 1 });
  }

  private async pace(startedAt: number, intervalMs: number): Promise<void> {
    const wait = intervalMs - (performance.now() - startedAt);
    if (wait > 0) await sleep(wait, this.stopController.signal).catch(() => undefined);
  }

  private async sender(process: string): Promise<void> {
    const interval = 1000 / this.options.sendRate;
    const smtp = smtpSender({ host: this.options.host }, SEND_TIMEOUT_MS);
    try {
      while (this.running) {
        const started = performance.now();
        const id = this.nextId++;
        const account = this.accountNames[this.options.random.int(this.accountNames.length)]!;
        const to = `${account}@${this.options.domain}`;
        const pending = this.options.history.invoke(process, 'send', { id, to });
        try {
          const result = await smtp.send({ from: 'workload@ha-chaos.test', to, subject: `ha-chaos ${this.options.tag} msg ${id}`, text: `message ${id}\n` });
          pending.ok({ response: result.response });
        } catch (error) {
          const message = describeMailError(error);
          if (sendDefinitelyFailed(error)) pending.fail(message);
          else pending.info(message);
        }
        await this.pace(started, interval);
      }
    } finally {
      smtp.close();
    }
  }

  private async probe(process: string, session: ProbeSession): Promise<void> {
    try {
      while (this.running) {
        const started = performance.now();
        const pending = this.options.history.invoke(process, 'probe');
        try {
          pending.ok(await session.check());
        } catch (error) {
          // A probe only reads: a failed one means "not available now", never "maybe done".
          pending.fail(describeMailError(error));
        }
        await this.pace(started, this.options.probeIntervalMs);
      }
    } finally {
      session.close();
    }
  }

  /**
   * Reads every account's mailbox back, over IMAP and then over POP3: one `read` operation per
   * account and protocol, ok with `{account, protocol, ids}` (the message numbers found).
   */
  async readBack(): Promise<void> {
    const readers = { imap: listInbox, pop3: listMaildropPop3 } as const;
    for (const [protocol, list] of Object.entries(readers)) {
      for (const account of this.accountNames) {
        await this.options.history
          .record(`reader-${protocol}`, 'read', { account, protocol }, async () => {
            const inbox = await list({ host: this.options.host }, this.login(account), this.options.accounts[account]!, 30_000);
            const ids = inbox.map((m) => messageNumber(m.subject, this.options.tag)).filter((n): n is number => n !== undefined);
            return { account, protocol, ids };
          })
          .catch((error: unknown) => this.options.log.warn(`${protocol} read-back of ${account} failed: ${(error as Error).message}`));
      }
    }
  }
}
