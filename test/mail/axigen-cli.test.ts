/**
 * Axigen's CLI, as the adapter talks to it (issue 20). The node-side client (harness/mail/
 * axigen-cli.py) against literal transcripts in the form Axigen's own Python module expects
 * (axigen/automation-tools lib/cli2.py: `+OK: ...`/`-ERR: ...` then `<context#> `), then the
 * adapter's whole conversation against the stand-in's CLI (test/fixtures/axigen-standin, modelled
 * on Axigen's documentation), and the negative control: the adapter as it was before issue 20,
 * which the stand-in must refuse in the three documented ways.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { axigenAdminPassword, axigenSetupSteps, renderCliConversation, type CliStep } from '../../harness/mail/axigen.ts';
import { tempDir } from '../helpers.ts';

const CLIENT = 'harness/mail/axigen-cli.py';
const STANDIN = 'test/fixtures/axigen-standin/opt/axigen/lib/standin.py';
const secrets = { corosyncKey: 'Y29yb3N5bmMta2V5', accounts: { user1: 'pw-one', user2: 'pw "two"' } };

/** A CLI that answers each line with the next reply of a transcript (the greeting first). */
async function scriptedCli(greeting: string, replies: string[]): Promise<{ port: number; received: string[]; close: () => Promise<void> }> {
  const received: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.write(greeting);
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        received.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 2);
        const reply = replies.shift();
        if (reply === undefined) socket.end();
        else if (reply.endsWith('\r\n')) socket.end(reply);
        else socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, received, close: () => new Promise((resolve) => { sockets.forEach((s) => s.destroy()); server.close(() => resolve()); }) };
}

async function converse(steps: CliStep[], port: number, timeout = 20) {
  const file = join(tempDir(), 'conversation');
  writeFileSync(file, renderCliConversation(steps), { mode: 0o600 });
  return run('python3', [CLIENT, file, '127.0.0.1', String(port), String(timeout)], { timeoutMs: 60_000, reject: false });
}

const GREETING = "Welcome to AXIGEN's Command Line Interface\r\nYou must login first.\r\n<login> ";

test('the client follows a documented transcript: login prompts, +OK replies, each context as expected', async (t) => {
  const cli = await scriptedCli(GREETING, [
    '<password> ',
    '+OK: Authentication successful\r\n<#> ',
    '+OK: command successful\r\n<domain-create#> ',
    '+OK: committing changes and switching back to previous context\r\n<#> ',
    '+OK: command successful\r\n<#> ',
    '+OK: have a nice day\r\n',
  ]);
  const r = await converse(
    [
      { command: 'USER admin', prompt: '<password>' },
      { command: 'admin-secret-9', prompt: '<#>', secret: true },
      { command: 'CREATE Domain name lab.test domainLocation "/d" postmasterPassword "pm-secret-7"', prompt: '<domain-create#>', secret: true },
      { command: 'COMMIT', prompt: '<#>' },
      { command: 'SAVE CONFIG', prompt: '<#>' },
      { command: 'QUIT', prompt: '(connection closed)' },
    ],
    cli.port,
  );
  await cli.close();
  t.is(r.exitCode, 0, r.stderr);
  t.deepEqual(cli.received, ['USER admin', 'admin-secret-9', 'CREATE Domain name lab.test domainLocation "/d" postmasterPassword "pm-secret-7"', 'COMMIT', 'SAVE CONFIG', 'QUIT']);
  t.false(r.stdout.includes('secret'), 'no password in what it prints');
});

test('a -ERR stops the conversation with the command and Axigen\'s own words; a password is never shown', async (t) => {
  const cli = await scriptedCli(GREETING, ['<password> ', '+OK: Authentication successful\r\n<#> ', '-ERR: Domain lab.test already exists\r\n<#> ']);
  const r = await converse(
    [
      { command: 'USER admin', prompt: '<password>' },
      { command: 'admin-secret-9', prompt: '<#>', secret: true },
      { command: 'CREATE Domain name lab.test postmasterPassword "pm-secret-7"', prompt: '<domain-create#>', secret: true },
      { command: 'COMMIT', prompt: '<#>' },
    ],
    cli.port,
  );
  await cli.close();
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /Axigen refused `\(the password\)`: -ERR: Domain lab\.test already exists/);
  t.false(r.stderr.includes('secret'));
  t.is(cli.received.length, 3, 'nothing sent after the refusal');
});

test('a command that leaves the CLI in another context than expected stops the conversation', async (t) => {
  // UPDATE Domain sent while still in <domain-create#>: a CLI that answered +OK but stayed there.
  const cli = await scriptedCli(GREETING, ['<password> ', '+OK: Authentication successful\r\n<#> ', '+OK: command successful\r\n<domain-create#> ']);
  const r = await converse(
    [
      { command: 'USER admin', prompt: '<password>' },
      { command: 'pw-secret-1', prompt: '<#>', secret: true },
      { command: 'UPDATE Domain name lab.test', prompt: '<domain#>' },
    ],
    cli.port,
  );
  await cli.close();
  t.is(r.exitCode, 1);
  t.regex(r.stderr, /after `UPDATE Domain name lab\.test` Axigen's CLI is at <domain-create#>, not <domain#>/);
});

test('a CLI that never answers ends the client within its bound (exit 3)', async (t) => {
  const r = await converse([{ command: 'USER admin', prompt: '<password>' }], 1, 2);
  t.is(r.exitCode, 3);
  t.regex(r.stderr, /did not answer on 127\.0\.0\.1:1 within 2 s/);
});

/** The stand-in's server process alone (its CLI; no mail daemons), on a free port, in a working directory of its own. */
async function standin(work: string, port: number): Promise<ChildProcess> {
  mkdirSync(join(work, 'run'), { recursive: true });
  const env = { ...process.env, AXIGEN_STANDIN_WORK: work, AXIGEN_STANDIN_CLI_PORT: String(port), AXIGEN_STANDIN_NO_MAIL: '1' };
  const child = spawn('python3', [STANDIN, '--child'], { env, stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const probe = await run('python3', ['-c', `import socket; socket.create_connection(("127.0.0.1", ${port}), timeout=1)`], { timeoutMs: 5000, reject: false });
    if (probe.ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the stand-in CLI did not start');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const configOf = (work: string) => JSON.parse(readFileSync(join(work, 'run', 'axigen.cfg'), 'utf8')) as { primaryDomain: string; listeners: Record<string, string[]>; domains: Record<string, { accounts: Record<string, string> }> };

test.serial("the adapter's conversation, against the stand-in's CLI: the domain, every account, the listeners on every address, the primary domain, saved", async (t) => {
  const work = tempDir();
  await run('python3', [STANDIN, '-A', axigenAdminPassword(secrets)], { timeoutMs: 30_000, env: { AXIGEN_STANDIN_WORK: work } });
  t.deepEqual(configOf(work).listeners, { smtpIncoming: ['127.0.0.1:25'], imap: ['127.0.0.1:143'], pop3: ['127.0.0.1:110'] }, "the documented defaults: nothing answers on the virtual IP");
  t.not(configOf(work).primaryDomain, 'lab.test');
  const port = await freePort();
  const child = await standin(work, port);
  try {
    const r = await converse(axigenSetupSteps({ mailDomain: 'lab.test' }, secrets), port);
    t.is(r.exitCode, 0, r.stderr);
    const config = configOf(work);
    t.deepEqual(config.domains['lab.test']?.accounts, { user1: 'pw-one', user2: 'pw "two"' });
    t.deepEqual(config.listeners, { smtpIncoming: ['0.0.0.0:25'], imap: ['0.0.0.0:143'], pop3: ['0.0.0.0:110'] });
    t.is(config.primaryDomain, 'lab.test');
  } finally {
    child.kill('SIGKILL');
  }
});

/** The adapter before issue 20, kept literally: the conversation it sent (one line every 0.3 s, one COMMIT, no SAVE CONFIG). */
function legacyConversation(): string[] {
  const admin = axigenAdminPassword(secrets);
  return ['USER admin', admin, `CREATE Domain name lab.test domainLocation "/var/opt/axigen/domains/lab.test" postmasterPassword "${admin}"`, 'UPDATE Domain name lab.test', 'ADD Account name user1 password "pw-one"', 'ADD Account name user2 password "pw \\"two\\""', 'COMMIT', 'QUIT'];
}

test.serial('negative control: the adapter as it was before issue 20 fails against the stand-in in the three documented ways', async (t) => {
  const work = tempDir();
  await run('python3', [STANDIN, '-A', axigenAdminPassword(secrets)], { timeoutMs: 30_000, env: { AXIGEN_STANDIN_WORK: work } });
  const port = await freePort();
  let child = await standin(work, port);
  let out: string | undefined;
  try {
    // 1. The set-up: UPDATE Domain straight after CREATE gets -ERR (the domain-create context wants its COMMIT first).
    const lines = legacyConversation();
    const sent = await run('python3', ['-c', `import socket,time,sys\ns=socket.create_connection(("127.0.0.1",${port}))\nout=b""\nfor l in sys.argv[1:]:\n  s.sendall(l.encode()+b"\\r\\n"); time.sleep(0.3)\ntime.sleep(0.5)\ns.settimeout(2)\ntry:\n  while True:\n    c=s.recv(65536)\n    if not c: break\n    out+=c\nexcept Exception: pass\nprint(out.decode())`, ...lines], { timeoutMs: 60_000 });
    out = sent.stdout;
    t.regex(out, /-ERR: Invalid command in this context/, 'the CLI refuses the commands sent in the wrong context');
    t.deepEqual(configOf(work).domains, {}, 'and nothing was saved: no SAVE CONFIG');
  } finally {
    child.kill('SIGKILL');
  }
  // ...and a restart keeps nothing the old adapter did (it never sent SAVE CONFIG).
  child = await standin(work, port);
  child.kill('SIGKILL');
  t.deepEqual(configOf(work).domains, {});
  // 2. Nothing answers on the virtual IP: the old adapter never set a listener.
  t.deepEqual(configOf(work).listeners.imap, ['127.0.0.1:143']);
  // 3. Pacemaker never sees Axigen die: the old adapter ran `systemd:axigen`, which is the vendor's SysV script
  //    (no native unit; no pidfile header, so systemd's generated unit has RemainAfterExit=yes).
  const init = readFileSync('test/fixtures/axigen-standin/etc/init.d/axigen', 'utf8');
  t.regex(init, /### BEGIN INIT INFO/);
  t.notRegex(init, /^#\s*pidfile:/im, "no pidfile header");
  t.log(`the stand-in's replies to the old conversation:\n${(out ?? '').trim()}`);
});
