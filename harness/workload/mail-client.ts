/**
 * Real mail clients through the virtual IP: SMTP in (nodemailer), IMAP out (imapflow), POP3 out
 * (node-pop3). Every call
 * is bounded. A send resolves only on the server's 250; anything else throws, and the caller
 * decides whether that is a definite failure (a 5xx rejection) or unknown (a timeout, a dropped
 * connection: the message may exist).
 */
import { createTransport } from 'nodemailer';
import { ImapFlow } from 'imapflow';
import Pop3Command from 'node-pop3';
import { sleep } from '../core/wait.ts';

export interface MailServer {
  host: string;
  smtpPort?: number;
  imapPort?: number;
  pop3Port?: number;
}

export interface SendOptions {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** Connection, greeting and socket timeouts. Default 10 s each. */
  timeoutMs?: number;
}

/** The SMTP server's final answer to one message. */
export interface SendResult {
  /** The full server response, e.g. `250 2.0.0 Ok: queued as 4F3A21`. */
  response: string;
  messageId: string;
}

/**
 * Whether a failed send definitely did not deliver the message: the server refused it (a 4xx/5xx
 * answer), or the client never got as far as a conversation (the TCP connect failed or timed
 * out, or no greeting came). Anything else (a connection lost or a timeout mid-transaction) may
 * have delivered it: its outcome is unknown.
 */
export function sendDefinitelyFailed(error: unknown): boolean {
  const e = error as { responseCode?: number; message?: string; code?: string };
  if (typeof e.responseCode === 'number' && e.responseCode >= 400 && e.responseCode < 600) return true;
  const message = e.message ?? '';
  return /^connect (ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)\b/.test(message) || message === 'Connection timeout' || message === 'Greeting never received';
}

/**
 * A client error in words, with what the server said when it said something (imapflow keeps a
 * NO/BAD answer's text apart from its message, e.g. "Command failed" + "[UNAVAILABLE] ...").
 */
export function describeMailError(error: unknown): string {
  const e = error as { message?: string; responseText?: string; response?: string; serverResponseCode?: string };
  const message = e.message ?? String(error);
  const said = e.responseText ?? (typeof e.response === 'string' ? e.response : undefined);
  return said && !message.includes(said) ? `${message}: ${said}` : message;
}

/** Sends one message over SMTP on a connection of its own (no TLS, no auth: the lab's relay trusts its networks). */
export async function sendMail(server: MailServer, options: SendOptions): Promise<SendResult> {
  const sender = smtpSender(server, options.timeoutMs ?? 10_000, 1);
  try {
    return await sender.send(options);
  } finally {
    sender.close();
  }
}

/** A sender that keeps its SMTP connection for a few messages, as a real MTA does. */
export interface SmtpSender {
  send(options: Omit<SendOptions, 'timeoutMs'>): Promise<SendResult>;
  close(): void;
}

/**
 * A pooled SMTP sender: one connection carries up to `messagesPerConnection` messages (each its
 * own transaction, each acknowledged with its own 250), then a fresh one is opened. A new
 * connection per message cost the guest more CPU than the delivery itself under emulation
 * (smtpd's connection setup, its client lookup, the journal lines). A connection that breaks
 * (the node died) fails the message on it; the next message opens a new one.
 */
export function smtpSender(server: MailServer, timeoutMs = 10_000, messagesPerConnection = 10): SmtpSender {
  const transport = createTransport({
    host: server.host,
    port: server.smtpPort ?? 25,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 1,
    maxMessages: messagesPerConnection,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    name: 'ha-chaos-client',
  });
  transport.on('error', () => undefined); // a broken pooled connection fails the message on it
  return {
    async send(options) {
      const info = await transport.sendMail({ from: options.from, to: options.to, subject: options.subject, text: options.text });
      if (!/^250[ -]/.test(info.response)) throw new Error(`SMTP answered "${info.response}", not 250`);
      return { response: info.response, messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}

export interface MailboxMessage {
  uid: number;
  subject: string;
}

/** Lists the subjects in a user's INBOX over IMAP. */
export async function listInbox(server: MailServer, user: string, password: string, timeoutMs = 15_000, options: { headersOnly?: boolean } = {}): Promise<MailboxMessage[]> {
  const client = new ImapFlow({
    host: server.host,
    port: server.imapPort ?? 143,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: password },
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  client.on('error', () => undefined); // surfaced through the awaited calls below
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const messages: MailboxMessage[] = [];
      const exists = typeof client.mailbox === 'object' ? client.mailbox.exists : 0;
      // headersOnly: a login probe; it needs the mailbox opened, not its contents.
      if (options.headersOnly) return Array.from({ length: exists }, (_, i) => ({ uid: i + 1, subject: '' }));
      if (exists > 0) {
        for await (const msg of client.fetch('1:*', { uid: true, envelope: true })) {
          messages.push({ uid: msg.uid, subject: msg.envelope?.subject ?? '' });
        }
      }
      return messages;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** The Subject header of a message's header block (folded lines unfolded), or '' if it has none. */
export function subjectOf(headers: string): string {
  const unfolded = headers.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const m = /^Subject:[ \t]*(.*)$/im.exec(unfolded);
  return m ? m[1]!.trim() : '';
}

/**
 * Lists the subjects in a user's maildrop over POP3 (LIST, then TOP n 0 per message), within
 * `timeoutMs` in all. Reads only: nothing is deleted, so IMAP and POP3 see the same store.
 */
export async function listMaildropPop3(server: MailServer, user: string, password: string, timeoutMs = 30_000): Promise<MailboxMessage[]> {
  const client = new Pop3Command({ host: server.host, port: server.pop3Port ?? 110, user, password, tls: false, timeout: Math.min(timeoutMs, 10_000) });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`POP3 listing of ${user} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  const work = (async () => {
    const list = (await client.LIST()) as string[][];
    const messages: MailboxMessage[] = [];
    for (const [number] of list) {
      const n = Number(number);
      messages.push({ uid: n, subject: subjectOf(await client.TOP(n, 0)) });
    }
    return messages;
  })();
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined);
    const quitBound = new AbortController();
    await Promise.race([client.QUIT().catch(() => undefined), sleep(2000, quitBound.signal).catch(() => undefined)]);
    quitBound.abort(); // no timer outlives the QUIT
    // The library has no close(); a QUIT that did not finish must not leave its socket open.
    (client as unknown as { _socket?: { destroy(): void } | null })._socket?.destroy();
  }
}
