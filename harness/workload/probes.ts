/**
 * Availability probes that do not become the load they measure. Each keeps one session open
 * through the virtual IP and sends a NOOP on it every probe (a few hundred ms apart): the server
 * answers from a process that already runs, so nothing is forked or authenticated for it. Every
 * `freshEveryMs` (and after any failure) the session is replaced by a new one (a TCP connect, the
 * greeting, for IMAP a login and SELECT INBOX), so a server that answers old sessions but accepts
 * no new ones is still caught within that time.
 *
 * Measured under emulation (1 vCPU TCG guest): a fresh IMAP login + SELECT costs the guest ~0.35
 * s of CPU without process reuse and ~0.05-0.1 s with it; four a second was most of an idle
 * guest. A NOOP on an open session costs well under a millisecond of guest CPU.
 */
import { Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import { sleep } from '../core/wait.ts';

/** One probe session type: `check` resolves with what was seen, or throws (the service is not available now). */
export interface ProbeSession {
  check(): Promise<string>;
  close(): void;
}

/** Rejects after `ms` unless `work` settles first; `onTimeout` tears the work down. */
async function bounded<T>(work: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  const stop = new AbortController();
  const timeout = sleep(ms, stop.signal).then(
    () => {
      onTimeout();
      throw new Error(`${what}: no answer within ${ms} ms`);
    },
    () => undefined as never,
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    stop.abort();
    work.catch(() => undefined);
  }
}

/** A line reader over a socket. */
class LineSocket {
  private buffer = '';
  private waiters: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  private lines: string[] = [];
  private closed?: Error;

  constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(line);
        else this.lines.push(line);
      }
    });
    const fail = (e: Error) => {
      this.closed ??= e;
      for (const w of this.waiters.splice(0)) w.reject(this.closed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }
}

/** Session ages and bounds shared by the probes. */
export interface SessionOptions {
  host: string;
  port?: number;
  /** Per probe, ms. */
  timeoutMs: number;
  /** A new session at least this often, ms. */
  freshEveryMs: number;
}

/** SMTP: the greeting (220) on a fresh connection, then NOOP (250) on it. */
export class SmtpProbeSession implements ProbeSession {
  private conn?: { lines: LineSocket; openedAt: number };

  constructor(private readonly options: SessionOptions) {}

  async check(): Promise<string> {
    const now = performance.now();
    if (this.conn && !this.conn.lines.isClosed && now - this.conn.openedAt < this.options.freshEveryMs) {
      const { lines } = this.conn;
      try {
        lines.socket.write('NOOP\r\n');
        const reply = await bounded(lines.next(), this.options.timeoutMs, 'SMTP NOOP', () => lines.socket.destroy());
        if (!reply.startsWith('250')) throw new Error(`SMTP NOOP answered: ${reply}`);
        return reply;
      } catch (error) {
        this.close();
        throw error;
      }
    }
    this.close();
    const socket = new Socket();
    const lines = new LineSocket(socket);
    socket.connect(this.options.port ?? 25, this.options.host);
    try {
      const greeting = await bounded(lines.next(), this.options.timeoutMs, 'SMTP greeting', () => socket.destroy());
      if (!greeting.startsWith('220')) throw new Error(`SMTP greeting: ${greeting}`);
      this.conn = { lines, openedAt: now };
      return greeting;
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  close(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    if (!conn.lines.isClosed) conn.lines.socket.end('QUIT\r\n');
    setTimeout(() => conn.lines.socket.destroy(), 1000).unref();
  }
}

/** IMAP: a login and SELECT INBOX on a fresh session, then NOOP on it. */
export class ImapProbeSession implements ProbeSession {
  private conn?: { client: ImapFlow; openedAt: number; broken: boolean };

  constructor(
    private readonly options: SessionOptions,
    private readonly user: string,
    private readonly password: string,
  ) {}

  async check(): Promise<string> {
    const now = performance.now();
    const conn = this.conn;
    if (conn && !conn.broken && conn.client.usable && now - conn.openedAt < this.options.freshEveryMs) {
      try {
        await bounded(conn.client.noop(), this.options.timeoutMs, 'IMAP NOOP', () => conn.client.close());
        if (!conn.client.usable) throw new Error('IMAP session closed during NOOP');
        return 'noop ok';
      } catch (error) {
        this.close();
        throw error;
      }
    }
    this.close();
    const client = new ImapFlow({
      host: this.options.host,
      port: this.options.port ?? 143,
      secure: false,
      doSTARTTLS: false,
      auth: { user: this.user, pass: this.password },
      logger: false,
      connectionTimeout: this.options.timeoutMs * 2,
      greetingTimeout: this.options.timeoutMs * 2,
      socketTimeout: Math.max(this.options.freshEveryMs * 2, 30_000),
    });
    const fresh = { client, openedAt: now, broken: false };
    client.on('error', () => (fresh.broken = true));
    client.on('close', () => (fresh.broken = true));
    try {
      await bounded(
        (async () => {
          await client.connect();
          // The store is mounted and readable: INBOX opens. Then closed again, so the NOOPs that
          // follow do not make Dovecot re-scan a mailbox the workload keeps delivering into.
          await client.mailboxOpen('INBOX', { readOnly: true });
          await client.mailboxClose();
        })(),
        this.options.timeoutMs * 2,
        'IMAP login',
        () => client.close(),
      );
      this.conn = fresh;
      return 'login ok, INBOX opened';
    } catch (error) {
      client.close();
      throw error;
    }
  }

  close(): void {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    void bounded(conn.client.logout(), 1000, 'IMAP logout', () => conn.client.close()).catch(() => conn.client.close());
  }
}
