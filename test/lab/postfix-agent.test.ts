/**
 * The stand-in's SMTP resource agent, run for real (bash) on the host: its monitor must tell a
 * running master that greets from one that does not, and a pid file left by the peer (after a
 * failover the store carries the dead node's master.pid) from a master running here.
 */
import test from 'ava';
import { createServer, type Server } from 'node:net';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { renderPostfixAgent } from '../../harness/mail/postfix-dovecot.ts';
import { tempDir } from '../helpers.ts';

async function smtpServer(greeting: string | null): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    if (greeting) socket.write(`${greeting}\r\n`);
    socket.on('data', () => socket.end('221 bye\r\n'));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** A queue directory whose pid file names a process called `master` (a copy of sleep), or `other`. */
function queueWith(pidOf: 'master' | 'not-master' | 'none'): { queue: string; child?: ChildProcess } {
  const dir = tempDir();
  const queue = join(dir, 'queue');
  mkdirSync(join(queue, 'pid'), { recursive: true });
  if (pidOf === 'none') return { queue };
  const bin = join(dir, pidOf === 'master' ? 'master' : 'other');
  copyFileSync('/bin/sleep', bin);
  const child = spawn(bin, ['60'], { stdio: 'ignore' });
  writeFileSync(join(queue, 'pid', 'master.pid'), `${String(child.pid).padStart(10)}\n`);
  return { queue, child };
}

async function monitor(pidOf: 'master' | 'not-master' | 'none', greeting: string | null) {
  const dir = tempDir();
  const agent = join(dir, 'postfix');
  writeFileSync(agent, renderPostfixAgent(), { mode: 0o755 });
  const { queue, child } = queueWith(pidOf);
  const { server, port } = await smtpServer(greeting);
  try {
    await new Promise((resolve) => setTimeout(resolve, 100)); // the copy of sleep has exec'd
    const t0 = Date.now();
    const r = await run(agent, ['monitor'], { timeoutMs: 60_000, reject: false, env: { HACHAOS_SMTP_PORT: String(port), HACHAOS_POSTFIX_QUEUE: queue } });
    return { exitCode: r.exitCode, stderr: r.stderr, ms: Date.now() - t0 };
  } finally {
    server.close();
    child?.kill();
  }
}

test('monitor: a master that greets with 220 is running (OCF_SUCCESS)', async (t) => {
  t.is((await monitor('master', '220 mail.lab.test ESMTP')).exitCode, 0);
});

test('monitor: no pid file, or one naming a process that is not a master (the peer left it on the store), is not running (7)', async (t) => {
  t.is((await monitor('none', '220 mail.lab.test ESMTP')).exitCode, 7);
  t.is((await monitor('not-master', '220 mail.lab.test ESMTP')).exitCode, 7);
});

test('monitor: a master that does not greet, or refuses, fails (OCF_ERR_GENERIC) within its bound', async (t) => {
  const silent = await monitor('master', null);
  t.is(silent.exitCode, 1);
  t.regex(silent.stderr, /no SMTP greeting/);
  t.true(silent.ms < 20_000, `took ${silent.ms} ms`);
  t.is((await monitor('master', '554 go away')).exitCode, 1);
});

test('the queue directory is rendered in; meta-data names the actions with explicit timeouts', async (t) => {
  t.regex(renderPostfixAgent(), /HACHAOS_POSTFIX_QUEUE:=\/srv\/mail\/postfix\}/);
  const dir = tempDir();
  const agent = join(dir, 'postfix');
  writeFileSync(agent, renderPostfixAgent(), { mode: 0o755 });
  const r = await run(agent, ['meta-data'], { timeoutMs: 10_000 });
  for (const action of ['start', 'stop', 'monitor']) t.regex(r.stdout, new RegExp(`<action name="${action}" timeout="\\d+s"`));
  t.is((await run(agent, ['promote'], { timeoutMs: 10_000, reject: false })).exitCode, 3);
});
