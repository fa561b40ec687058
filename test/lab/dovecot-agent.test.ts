/**
 * The stand-in's IMAP resource agent, run for real (bash) against IMAP servers on loopback that
 * accept, refuse, or greet and then say nothing: its monitor must tell a login from a greeting.
 */
import test from 'ava';
import { createServer, type Server, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { renderDovecotAgent } from '../../harness/mail/postfix-dovecot.ts';
import { tempDir } from '../helpers.ts';

type Behaviour = 'accept' | 'refuse' | 'silent-after-greeting';

async function imapServer(behaviour: Behaviour): Promise<{ server: Server; port: number; logins: string[] }> {
  const logins: string[] = [];
  const server = createServer((socket: Socket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1] ready\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const [tag, command] = line.split(' ');
        if (command === 'LOGIN') {
          logins.push(line);
          if (behaviour === 'accept') socket.write(`${tag} OK Logged in\r\n`);
          if (behaviour === 'refuse') socket.write(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`);
        }
        if (command === 'LOGOUT' && behaviour !== 'silent-after-greeting') socket.end(`* BYE\r\n${tag} OK Logout completed.\r\n`);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, logins };
}

async function loginCheck(behaviour: Behaviour) {
  const dir = tempDir();
  const agent = join(dir, 'dovecot');
  writeFileSync(agent, renderDovecotAgent(), { mode: 0o755 });
  writeFileSync(join(dir, 'users'), 'user1:{PLAIN}s3cret-pw\nuser2:{PLAIN}other\n');
  const { server, port, logins } = await imapServer(behaviour);
  try {
    const t0 = Date.now();
    const r = await run(agent, ['login-check'], { timeoutMs: 60_000, reject: false, env: { HACHAOS_IMAP_PORT: String(port), HACHAOS_USERS: join(dir, 'users') } });
    return { ok: r.ok, ms: Date.now() - t0, logins };
  } finally {
    server.close();
  }
}

test('the monitor passes when a login works, as the first account with its password from the users file', async (t) => {
  const r = await loginCheck('accept');
  t.true(r.ok);
  t.deepEqual(r.logins, ['a LOGIN "user1" "s3cret-pw"']);
});

test('a refused login fails the monitor after three tries', async (t) => {
  const r = await loginCheck('refuse');
  t.false(r.ok);
  t.is(r.logins.length, 3);
});

test('a greeting with no answer to the login (Dovecot holding back its imap processes) fails within the bound', async (t) => {
  const r = await loginCheck('silent-after-greeting');
  t.false(r.ok);
  t.is(r.logins.length, 3);
  t.true(r.ms < 20_000, `took ${r.ms} ms`);
});

test('meta-data is valid enough for Pacemaker: names the agent and its actions', async (t) => {
  const dir = tempDir();
  const agent = join(dir, 'dovecot');
  writeFileSync(agent, renderDovecotAgent(), { mode: 0o755 });
  const r = await run(agent, ['meta-data'], { timeoutMs: 10_000 });
  t.regex(r.stdout, /<resource-agent name="dovecot"/);
  for (const action of ['start', 'stop', 'monitor', 'meta-data', 'validate-all']) t.regex(r.stdout, new RegExp(`<action name="${action}"`));
  t.is((await run(agent, ['promote'], { timeoutMs: 10_000, reject: false })).exitCode, 3, 'unimplemented action: OCF_ERR_UNIMPLEMENTED');
});
