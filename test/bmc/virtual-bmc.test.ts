/**
 * The virtual BMC against real parts: a real ipmi_sim, real ipmitool and fence_ipmilan, and a
 * stand-in process as the machine whose death and boots are checked directly.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseBmcConfig } from '../../harness/bmc/bmc-config.ts';
import { fenceIpmilan } from '../../harness/bmc/fence-agent.ts';
import { IpmiClient } from '../../harness/bmc/ipmi-client.ts';
import { listBmcs, StartedVirtualBmc, stopAllBmcs, VirtualBmc } from '../../harness/bmc/virtual-bmc.ts';
import { isAlive } from '../../harness/core/exec.ts';
import { fileSink, Logger } from '../../harness/core/log.ts';
import { done, notYet, waitFor } from '../../harness/core/wait.ts';
import { boots, freeUdpPort, standInCommand, tempDir } from '../helpers.ts';
import { PolledIpmiPower } from '../../harness/power/polled-ipmi-power.ts';
import { powerLosses } from '../../harness/power/power-log.ts';

interface Rig {
  bmc: StartedVirtualBmc;
  bootLog: string;
  stateRoot: string;
  logFile: string;
  password: string;
}

async function startRig(t: ExecutionContext, password = `Pw-${Math.random().toString(36).slice(2, 10)}`): Promise<Rig> {
  const stateRoot = tempDir();
  const bootLog = join(stateRoot, 'boots');
  const logFile = join(stateRoot, 'test.log');
  const config = parseBmcConfig({ name: 'node1', port: await freeUdpPort(), username: 'admin', password, target: { kind: 'process', command: standInCommand(bootLog) } });
  const bmc = await new VirtualBmc(config, { stateRoot, log: new Logger('test', [fileSink(logFile)]) }).start();
  t.teardown(() => bmc.stop());
  return { bmc, bootLog, stateRoot, logFile, password };
}

/** The stand-in's pid, if it is alive. */
function machinePid(rig: Rig): number | undefined {
  try {
    const pid = Number(readFileSync(join(rig.bmc.dir, 'target.pid'), 'utf8'));
    return isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const waitBoots = (rig: Rig, n: number) =>
  waitFor(`stand-in to have booted ${n} times`, () => (boots(rig.bootLog) >= n && machinePid(rig) ? done(true) : notYet(`${boots(rig.bootLog)} boots`)), {
    timeoutMs: 5000,
    intervalMs: 20,
  });

test('ipmitool power on/off/cycle/reset act on the machine', async (t) => {
  const rig = await startRig(t);
  const ipmi = rig.bmc.client();
  t.is(await ipmi.status(), 'off');

  t.like(await ipmi.power('on'), { acknowledged: true, state: 'on' });
  await waitBoots(rig, 1);
  const firstPid = machinePid(rig)!;

  t.like(await ipmi.power('off'), { acknowledged: true, state: 'off' });
  t.false(isAlive(firstPid), 'power off killed the machine');

  await ipmi.power('on');
  await waitBoots(rig, 2);
  const cycled = await ipmi.power('cycle'); // off now, ipmi_sim powers on ~1 s later
  t.true(cycled.acknowledged);
  await waitBoots(rig, 3);
  t.is(await ipmi.status(), 'on');

  const beforeReset = machinePid(rig)!;
  t.like(await ipmi.power('reset'), { acknowledged: true, state: 'on' });
  await waitBoots(rig, 4);
  t.false(isAlive(beforeReset), 'reset replaced the machine');

  t.deepEqual(
    rig.bmc.powerLog().map((e) => `${e.request}=${e.value}:${e.result}`),
    ['power=1:done', 'power=0:done', 'power=1:done', 'power=0:done', 'power=1:done', 'reset=1:done'],
  );
});

test('fence_ipmilan status/on/off/reboot (cipher 3) act on the machine, off before on', async (t) => {
  const rig = await startRig(t);
  const opts = { password: rig.bmc.secret(), powerWait: 1 };
  t.like(await fenceIpmilan(rig.bmc.endpoint, 'status', opts), { ok: true, power: 'off' });
  t.like(await fenceIpmilan(rig.bmc.endpoint, 'monitor', opts), { ok: true });

  t.true((await fenceIpmilan(rig.bmc.endpoint, 'on', opts)).ok);
  await waitBoots(rig, 1);
  t.like(await fenceIpmilan(rig.bmc.endpoint, 'status', opts), { ok: true, power: 'on' });

  const victim = machinePid(rig)!;
  const since = Date.now();
  const reboot = await fenceIpmilan(rig.bmc.endpoint, 'reboot', opts);
  t.true(reboot.ok, reboot.exec.stderr);
  await waitBoots(rig, 2);
  t.false(isAlive(victim), 'the fenced machine really died');
  const actions = rig.bmc.powerLog().filter((e) => e.time >= since).map((e) => `${e.request}=${e.value}`);
  t.deepEqual(actions, ['power=0', 'power=1'], 'reboot is off, then on');

  t.true((await fenceIpmilan(rig.bmc.endpoint, 'off', opts)).ok);
  t.is(machinePid(rig), undefined);
  t.like(await fenceIpmilan(rig.bmc.endpoint, 'status', opts), { ok: true, power: 'off' });
  t.log(`fence_ipmilan reboot took ${reboot.exec.durationMs} ms (power_wait 1 s)`);
});

test('a wrong password fails fast and clearly; the power state is unknown', async (t) => {
  const rig = await startRig(t);
  const wrong = new IpmiClient(rig.bmc.endpoint, { password: 'Not-the-pw1' });
  const result = await wrong.power('off');
  t.false(result.acknowledged);
  t.is(result.state, 'unknown');
  t.is(result.error?.kind, 'auth-or-unreachable');
  t.regex(result.error!.message, /refused the session: check the username, password and cipher suite/);
  // Fast means well inside the client's 20 s limit (not a wait for it); the bound is loose because a loaded CI host is slow to start ipmitool at all.
  t.true(result.durationMs < 15_000, `took ${result.durationMs} ms`);
  const agent = await fenceIpmilan(rig.bmc.endpoint, 'status', { password: 'Not-the-pw1' });
  t.false(agent.ok);
});

test('BMC dead: a power command fails within the bound as "power state unknown"; revive heals', async (t) => {
  const rig = await startRig(t);
  const ipmi = rig.bmc.client({ retransmitSeconds: 1, retries: 1 });
  await ipmi.power('on');
  await waitBoots(rig, 1);
  await rig.bmc.kill();
  t.false(rig.bmc.isRunning());
  t.regex(rig.bmc.leftovers()[0]!, /^BMC node1: ipmi_sim \(pid \d+\) is not running$/);
  const result = await ipmi.power('off');
  t.false(result.acknowledged);
  t.is(result.state, 'unknown');
  t.is(result.error?.kind, 'timeout');
  t.is(result.rereadError?.kind, 'timeout');
  // ipmitool's own retries end it (command + re-read): well inside a fence agent's budget, even beside a booting lab.
  t.true(result.durationMs < 30_000, `dead BMC took ${result.durationMs} ms (command + re-read)`);
  t.truthy(machinePid(rig), 'the machine is untouched');
  t.log(`dead BMC: power off + re-read failed after ${result.durationMs} ms`);

  await rig.bmc.revive();
  t.is(await ipmi.status(), 'on');
});

test('BMC hung: requests time out within the bound; resume heals', async (t) => {
  const rig = await startRig(t);
  const ipmi = rig.bmc.client({ retransmitSeconds: 1, retries: 1 });
  t.deepEqual(rig.bmc.leftovers(), []);
  await rig.bmc.hang();
  t.deepEqual(rig.bmc.leftovers(), ['BMC node1: ipmi_sim is stopped (SIGSTOP)']);
  const started = Date.now();
  const error = await t.throwsAsync(ipmi.status());
  t.is((error as { kind?: string }).kind, 'timeout');
  // Two 1 s retransmits, not the client's 20 s limit; loose, for a CI host busy booting a lab.
  t.true(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  await rig.bmc.resume();
  t.is(await ipmi.status(), 'off');
  t.deepEqual(rig.bmc.leftovers(), []);
});

test('slow power control: the command still lands, after the delay', async (t) => {
  const rig = await startRig(t);
  const ipmi = rig.bmc.client({ retransmitSeconds: 3, retries: 1 });
  await ipmi.power('on');
  await waitBoots(rig, 1);
  rig.bmc.setPowerControl({ delayMs: 1500 });
  const result = await ipmi.power('off');
  t.like(result, { acknowledged: true, state: 'off' });
  t.true(result.durationMs >= 1500, `took ${result.durationMs} ms`);
  t.is(machinePid(rig), undefined);
});

test('failing power control: not acknowledged, and the re-read tells the truth', async (t) => {
  const rig = await startRig(t);
  const ipmi = rig.bmc.client();
  await ipmi.power('on');
  await waitBoots(rig, 1);
  rig.bmc.setPowerControl({ mode: 'fail' });
  const result = await ipmi.power('off');
  t.false(result.acknowledged);
  t.is(result.error?.kind, 'failed');
  t.is(result.state, 'on', 'the re-read shows the machine still on');
  t.truthy(machinePid(rig));
  t.is(rig.bmc.powerLog().at(-1)?.result, 'failed');
});

test('lying power control: acknowledged, nothing done; the re-read shows it', async (t) => {
  const rig = await startRig(t);
  const ipmi = rig.bmc.client();
  await ipmi.power('on');
  await waitBoots(rig, 1);
  rig.bmc.setPowerControl({ mode: 'ignore' });
  const result = await ipmi.power('off');
  t.true(result.acknowledged);
  t.is(result.state, 'on');
  t.truthy(machinePid(rig), 'the machine was not powered off');
  t.is(rig.bmc.powerLog().at(-1)?.result, 'ignored');
  t.deepEqual(rig.bmc.leftovers(), ['BMC node1: power control not normal (FAULT_MODE=ignore FAULT_DELAY_MS=0)']);
  await rig.bmc.heal();
  t.deepEqual(rig.bmc.leftovers(), []);
  t.like(await ipmi.power('off'), { acknowledged: true, state: 'off' });
});

test('stop is idempotent, removes the BMC and powers off a stand-in; a second start is refused while running', async (t) => {
  const rig = await startRig(t);
  await rig.bmc.client().power('on');
  await waitBoots(rig, 1);
  const standIn = machinePid(rig)!;
  const again = parseBmcConfig({ name: 'node1', port: rig.bmc.endpoint.port, username: 'admin', password: 'Other-pw-1', target: { kind: 'process', command: 'true' } });
  await t.throwsAsync(new VirtualBmc(again, { stateRoot: rig.stateRoot }).start(), { message: /already running .* ha-chaos bmc stop node1/ });
  const attached = StartedVirtualBmc.attach('node1', { stateRoot: rig.stateRoot });
  t.is(attached.record.pid, rig.bmc.record.pid);
  await rig.bmc.stop();
  await rig.bmc.stop();
  t.false(isAlive(rig.bmc.record.pid));
  t.false(isAlive(standIn));
  t.deepEqual(listBmcs({ stateRoot: rig.stateRoot }), []);
});

test('a port already taken fails the start quickly and leaves nothing', async (t) => {
  const stateRoot = tempDir();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  const config = parseBmcConfig({ name: 'node2', port: socket.address().port, username: 'admin', password: 'Taken-pw-1', target: { kind: 'process', command: 'true' } });
  // The refusal names the port taken (found at once), not a start that timed out waiting.
  await t.throwsAsync(new VirtualBmc(config, { stateRoot }).start({ timeoutMs: 60_000 }), { message: /UDP port 127.0.0.1:\d+ is already in use by another process/ });
  t.deepEqual(listBmcs({ stateRoot }), []);
});

test('after a harness crash, stopAllBmcs finds and stops what it left', async (t) => {
  const stateRoot = tempDir();
  const port = await freeUdpPort();
  const script = `
    import { parseBmcConfig } from '${join(process.cwd(), 'harness/bmc/bmc-config.ts')}';
    import { VirtualBmc } from '${join(process.cwd(), 'harness/bmc/virtual-bmc.ts')}';
    const c = parseBmcConfig({ name: 'node1', port: ${port}, username: 'admin', password: 'Crash-pw-1', target: { kind: 'process', command: 'sleep 100000' } });
    const b = await new VirtualBmc(c, { stateRoot: '${stateRoot}', session: 'crashy' }).start();
    await b.client().power('on');
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  child.kill('SIGKILL');
  const [left] = listBmcs({ stateRoot });
  t.truthy(left);
  t.true(left!.isRunning(), 'the BMC outlived the crashed harness');
  const standIn = Number(readFileSync(join(left!.dir, 'target.pid'), 'utf8'));
  t.deepEqual(await stopAllBmcs({ stateRoot, session: 'other' }), [], 'another session is left alone');
  t.deepEqual(await stopAllBmcs({ stateRoot }), ['node1']);
  t.false(isAlive(left!.record.pid));
  t.false(isAlive(standIn));
});

test('the BMC credential stays private: files 0600, never in logs or argv', async (t) => {
  const rig = await startRig(t, 'Very-Private-77');
  await rig.bmc.client().power('on');
  await fenceIpmilan(rig.bmc.endpoint, 'status', { password: rig.bmc.secret(), log: new Logger('t', [fileSink(rig.logFile)]) });
  t.is(statSync(join(rig.bmc.dir, 'lan.conf')).mode & 0o777, 0o600);
  t.is(statSync(join(rig.bmc.dir, 'password')).mode & 0o777, 0o600);
  t.false(readFileSync(rig.logFile, 'utf8').includes('Very-Private-77'));
  const argvs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  t.false(argvs.includes('Very-Private-77'));
});

test('a BMC the harness does not run (the virtual one, reached as if it were real): power off/on over IPMI, and the poll logs each change of the power state', async (t) => {
  const rig = await startRig(t);
  const { address, port } = rig.bmc.endpoint;
  const log = new Logger('test', [fileSink(rig.logFile)]);
  const power = new PolledIpmiPower({ node: 'node1', address, port, username: 'admin', password: rig.password, log, pollMs: 300 });
  t.teardown(() => power.stop());
  t.is((await power.power('on')).state, 'on', 'the stand-in machine starts off');
  power.start();
  t.is(await power.status(), 'on');
  t.deepEqual([power.supplies(), power.isRunning()], [['bmc'], true]);
  const off = await power.power('off');
  t.deepEqual([off.acknowledged, off.state], [true, 'off']);
  t.is(await power.targetPower(), 'off', 'the ground truth on real hardware is what the BMC reports');
  // A request the harness did not make (the cluster's fence agent): only the poll can see it.
  await rig.bmc.client().power('on');
  await waitFor('the poll to see the node on again', () => (power.powerLog().some((e) => e.value === '1' && e.time > Date.now() - 10_000 && e.result === 'done') ? done(true) : notYet(JSON.stringify(power.powerLog().slice(-3)))), { timeoutMs: 15_000, intervalMs: 100 });
  const events = power.powerLog();
  t.deepEqual([...events].sort((a, b) => a.time - b.time), events, 'in time order');
  t.is(powerLosses(events, 'node1').length, 1, 'one power-off: the harness-made one');
  t.false(readFileSync(rig.logFile, 'utf8').includes(rig.password), 'the password is never logged');
});
