/**
 * The lab tier: boots the real lab (two VMs, DRBD, Corosync, Pacemaker, Postfix + Dovecot,
 * virtual BMCs; then both variants at once: a shared store and two virtual PDUs) and checks it for
 * real. Runs in `npm test` and in CI; a cold run builds the box.
 */
import { controlSocketPrefix, sshFiles } from '../../harness/cluster/ssh.ts';
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { run } from '../../harness/core/exec.ts';
import { virsh as libvirt } from '../../harness/lab/host.ts';
import { fileSink, rootLogger } from '../../harness/core/log.ts';
import { done, notYet, waitFor } from '../../harness/core/wait.ts';
import { Lab, LabWedgedError, type StartedLab } from '../../harness/lab/lab.ts';
import { describeGuestLoad, GuestCpuWindow } from '../../harness/observe/guest-load.ts';
import { DEFAULT_LAB_CONFIG, loadLabConfig, parseLabConfig } from '../../harness/cluster/lab-config.ts';
import { stateRoot } from '../../harness/core/paths.ts';
import { buildStandinPackage } from '../fixtures/axigen-standin/build.ts';
import { listInbox, listMaildropPop3, sendMail } from '../../harness/workload/mail-client.ts';
import { runScenario } from '../../harness/run/run-scenario.ts';
import { ExistingCluster } from '../../harness/existing/existing-cluster.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';
import { RunStore } from '../../harness/report/run-store.ts';
import { measureOffset } from '../../harness/observe/clock.ts';
import { readFileSync } from 'node:fs';
import type { Observations } from '../../harness/check/observations.ts';
import { splitWithoutFencing } from '../split-control.ts';
import { storeOf } from '../../harness/storage/storage.ts';
import { verifyProblem } from '../../harness/storage/store-backend.ts';
import { join } from 'node:path';

const MIN = 60_000;
const lab = new Lab(loadLabConfig(), rootLogger('lab-tier').withSink(fileSink('reports/lab-tier.log')));
let started: StartedLab;
/**
 * The variants (vagrant/lab-variants.json: a shared store, two PDUs), with Axigen's install path:
 * the stand-in Axigen package (test/fixtures/axigen-standin/) as `mail.package`. Brought up after
 * the default lab is down; until the package is built, this Lab (same name) is the one `down` uses.
 */
const variantsConfig = loadLabConfig(DEFAULT_LAB_CONFIG.replace(/lab\.json$/, 'lab-variants.json'));
let pduLab = new Lab(variantsConfig, rootLogger('lab-tier').withSink(fileSink('reports/lab-tier.log')));

const virsh = async (...args: string[]) => (await libvirt(args, { timeoutMs: 60_000 })).stdout;

test.before(async (t) => {
  t.timeout(40 * MIN, 'lab up (a cold run builds the box)');
  const t0 = Date.now();
  started = await lab.up();
  t.log(`lab up took ${((Date.now() - t0) / 1000).toFixed(0)} s (${started.accel.toUpperCase()})`);
});

test.after.always(async (t) => {
  t.timeout(10 * MIN);
  await lab.down();
  await pduLab.down();
});

test.serial('status reports a ready cluster: one active node holding DRBD primary, the IP and the mail service', async (t) => {
  t.timeout(5 * MIN);
  const status = await started.status();
  t.deepEqual(started.unmet(status), []);
  const pm = status.pacemaker!;
  t.deepEqual(pm.nodes.map((n) => [n.name, n.online]), [
    ['node1', true],
    ['node2', true],
  ]);
  const active = pm.resources.find((r) => r.id === 'vip')!.nodes;
  t.is(active.length, 1);
  t.deepEqual(status.vipHolders, active);
  t.deepEqual(pm.resources.filter((r) => r.id.startsWith('drbd_') && r.role === 'Promoted').flatMap((r) => r.nodes), active);
  for (const id of ['fs_mail', 'smtp', 'imap']) t.deepEqual(pm.resources.find((r) => r.id === id)?.nodes, active, id);
  t.deepEqual(status.power, { node1: 'on', node2: 'on' });
  t.regex(status.smtp.detail, /^220 /);
  t.regex(status.imap.detail, /^\* OK/);
  t.true(['tcg', 'kvm'].includes(status.accel));
});

test.serial('a message sent by SMTP to the virtual IP is read back once by IMAP and once by POP3', async (t) => {
  t.timeout(5 * MIN);
  const server = { host: started.plan.virtualIp };
  const password = started.accounts().user1!;
  const subject = `ha-chaos lab-tier ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const sent = await sendMail(server, { from: 'probe@lab.test', to: 'user1@lab.test', subject, text: 'hello through the virtual IP' });
  t.regex(sent.response, /^250 /);
  const found = await waitFor(
    `message "${subject}" in user1's INBOX`,
    async () => {
      const inbox = await listInbox(server, 'user1', password);
      const hits = inbox.filter((m) => m.subject === subject);
      return hits.length > 0 ? done(hits) : notYet(`${inbox.length} messages, none with the subject`);
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  t.is(found.length, 1);
  const maildrop = await listMaildropPop3(server, 'user1', password);
  t.is(maildrop.filter((m) => m.subject === subject).length, 1, `POP3 sees ${maildrop.length} messages`);
  await t.throwsAsync(listMaildropPop3(server, 'user1', 'wrong-password', 10_000), undefined, 'POP3 refuses a wrong password');
});

test.serial("guest CPU accounting sees where each guest's CPU goes (live processes and exited agents)", async (t) => {
  t.timeout(5 * MIN);
  const window = new GuestCpuWindow(started.ssh, started.plan.nodes.map((n) => n.name));
  await window.open();
  await new Promise((resolve) => setTimeout(resolve, 40_000));
  const loads = await window.close();
  for (const load of loads) t.log(describeGuestLoad(load));
  for (const load of loads) {
    if ('error' in load) return t.fail(`${load.node}: ${load.error}`);
    t.is(load.partial, undefined, 'process accounting was on');
    t.true(load.groups.cluster > 0, 'the cluster uses some CPU');
    t.true(load.top.some((c) => c.comm === 'corosync' && c.group === 'cluster'), 'corosync is among the top commands');
    t.true(load.top.some((c) => c.group === 'cluster' && c.processes > 1), 'short-lived agent processes are counted');
  }
});

test.serial('a failed action never resolves by itself: the readiness wait ends at once naming it and the fix; the next bring-up records and clears it', async (t) => {
  t.timeout(10 * MIN);
  const active = (await started.status()).vipHolders[0]!;
  await started.root(active, `crm_resource --fail --resource imap --node ${active}`, 60_000);
  const t0 = Date.now();
  const error = await t.throwsAsync(started.waitReady(5 * MIN), { instanceOf: LabWedgedError });
  const waited = (Date.now() - t0) / 1000;
  t.log(`the wait ended after ${waited.toFixed(1)} s: ${error?.message}`);
  t.true(waited < 60, 'at once, not after the 5 min timeout');
  t.regex(error!.message, new RegExp(`imap on ${active} failed`));
  t.regex(error!.message, /fix: crm resource cleanup imap/);
  started = await lab.up();
  t.true(started.clearedFailures.some((w) => w.resource === 'imap'), 'recorded as found before the bring-up');
  t.deepEqual(started.unmet(await started.status()), []);
});

/** Sets a fence device's parameter through the cluster's own tool: how field clusters get misconfigured. */
async function setFenceParameter(device: string, name: string, value: string): Promise<void> {
  const r = await started.root('node1', `crm_resource --resource ${device} --set-parameter ${name} --parameter-value '${value}'`, 60_000);
  if (!r.ok) throw new Error(`could not set ${name} of ${device}: ${r.stderr}`);
}

test.serial('negative control: both fence devices given a wrong password: lab up ends within 2 minutes naming each device and its agent\'s error', async (t) => {
  t.timeout(15 * MIN);
  for (const node of ['node1', 'node2']) await setFenceParameter(`fence_${node}`, 'password_script', 'echo wrong-password');
  try {
    const t0 = Date.now();
    const error = await t.throwsAsync(lab.up());
    const waited = (Date.now() - t0) / 1000;
    t.log(`lab up ended after ${waited.toFixed(1)} s: ${error?.message}`);
    t.true(waited < 120, 'within 2 minutes, not after the readiness timeout');
    t.regex(error!.message, /fence_node1 \(fences node1\) cannot log in/);
    t.regex(error!.message, /fence_node2 \(fences node2\) cannot log in/);
    t.regex(error!.message, /Unable to obtain correct plug status/, "the agent's own words");
  } finally {
    // Restored whatever the assertions found: the rest of the tier needs a lab that can fence.
    for (const node of ['node1', 'node2']) await setFenceParameter(`fence_${node}`, 'password_script', `cat /etc/ha-chaos/bmc-${node}.pw`);
    started = await lab.up();
  }
  t.deepEqual(started.fencingVerification?.problems, [], 'restored: verified again');
  t.true(started.fencingVerification!.devices.every((d) => d.login === 'ok' && d.identity === `matches ${d.node}`), JSON.stringify(started.fencingVerification?.devices));
});

test.serial("negative control: a fence device aimed at the peer's BMC: lab up refuses it, naming the drift and whose machine it reaches", async (t) => {
  t.timeout(15 * MIN);
  const [node1, node2] = started.plan.nodes as [(typeof started.plan.nodes)[0], (typeof started.plan.nodes)[0]];
  await setFenceParameter('fence_node1', 'ipport', String(node2.bmcPort));
  try {
    const t0 = Date.now();
    const error = await t.throwsAsync(lab.up());
    const waited = (Date.now() - t0) / 1000;
    t.log(`lab up ended after ${waited.toFixed(1)} s: ${error?.message}`);
    t.true(waited < 120, 'within 2 minutes');
    t.regex(error!.message, new RegExp(`fence_node1: ipport expected ${node1.bmcPort}, actual ${node2.bmcPort}`));
    t.regex(error!.message, /fence_node1 is meant to fence node1 but its BMC is node2's/);
  } finally {
    await setFenceParameter('fence_node1', 'ipport', String(node1.bmcPort));
    started = await lab.up();
  }
  t.deepEqual(started.fencingVerification?.problems, []);
});

test.serial('stonith_admin --reboot node2 from node1 power-cycles node2 through its BMC, and node2 rejoins', async (t) => {
  t.timeout(20 * MIN);
  const domain = started.plan.nodes[1]!.domain;
  const idBefore = (await virsh('domid', domain)).trim();
  const since = Date.now();
  await started.ssh.close('node2');
  const fence = await started.root('node1', 'stonith_admin --reboot node2 --timeout 180', 240_000);
  t.true(fence.ok);
  const actions = started
    .powerOf('node2')
    .powerLog()
    .filter((e) => e.time >= since)
    .map((e) => `${e.request}=${e.value}:${e.result}`);
  // ipmitool may retransmit a slow request, so a command can appear twice; the order is what counts.
  t.true(actions.length >= 2 && actions.every((a) => a.endsWith(':done')), `BMC power log: ${actions.join(', ')}`);
  t.is(actions[0], 'power=0:done', 'the fence powered node2 off first');
  t.is(actions.at(-1), 'power=1:done', 'then powered it on');
  t.true(actions.lastIndexOf('power=0:done') < actions.indexOf('power=1:done'), `off before on: ${actions.join(', ')}`);
  await waitFor(
    `domain ${domain} running again`,
    async () => ((await virsh('domstate', domain)).trim() === 'running' ? done(true) : notYet('not running')),
    { timeoutMs: 2 * MIN, intervalMs: 1000 },
  );
  t.not((await virsh('domid', domain)).trim(), idBefore, 'a new QEMU process: the VM was really power-cycled');
  const t0 = Date.now();
  started = await lab.up(); // idempotent: reconnects, starts node2's cluster stack, waits until ready
  t.log(`node2 back in the cluster ${((Date.now() - t0) / 1000).toFixed(0)} s after the fence returned`);
  const status = await started.status();
  t.true(status.pacemaker!.nodes.every((n) => n.online));
});

/** The node a repair outside its power device started again, then made active: the next run's power cut hits it. */
let repaired: string | undefined;

test.serial('a repair outside the power device: the passive node powered off through its BMC, started again by lab up through libvirt (recorded in its power log), then made active', async (t) => {
  t.timeout(30 * MIN);
  const before = await started.status();
  const active = before.vipHolders[0]!;
  const passive = started.plan.nodes.map((n) => n.name).find((n) => n !== active)!;
  // A clean leave first: the cluster does not fence a node that left, so the BMC's last word on it stays "off".
  await started.root(passive, 'systemctl stop pacemaker corosync', 180_000);
  await started.ssh.close(passive);
  const off = await started.powerOf(passive).power('off');
  t.is(off.state, 'off');
  started = await lab.up();
  const last = started.powerOf(passive).powerLog().at(-1);
  t.is(last?.value, '1');
  t.regex(last?.by ?? '', /^outside: repair/, 'the repair is in the power log, with who did it');
  // The repaired node becomes the active one: the active node stands by, the service moves, the node comes back.
  await started.root(active, `crm_attribute --node ${active} --name standby --update on`, 60_000);
  await waitFor(`the service on ${passive}`, async () => {
    const s = await started.status();
    return s.vipHolders.length === 1 && s.vipHolders[0] === passive && s.smtp.ok ? done(true) : notYet(`virtual IP on [${s.vipHolders.join(', ')}]`);
  }, { timeoutMs: 10 * MIN, intervalMs: 5000 });
  await started.root(active, `crm_attribute --node ${active} --name standby --update off`, 60_000);
  started = await lab.up();
  t.deepEqual((await started.status()).vipHolders, [passive]);
  repaired = passive;
});

test.serial('certification: power-cut-active passes end to end and leaves a complete report', async (t) => {
  t.timeout(30 * MIN);
  const { dir, results } = await runScenario({ target: lab, scenario: SCENARIOS['power-cut-active']!, seed: 7, log: lab.log });
  for (const [name, check] of Object.entries(results.checks)) t.log(`${name}: ${String(check.valid)}: ${check.summary}`);
  t.log(`phases: ${JSON.stringify(results.metrics?.phasesSecondsAfterFault)}`);
  t.is(results.valid, true, results.summary);
  // The power cut hit the node a repair had started outside its BMC (its log's earlier word was "off"): judged from this run's power truth.
  if (repaired) t.is(results.environment?.activeNode, repaired);
  const manifest = RunStore.readManifest(dir) as { powerAtStart?: { nodes: Record<string, Record<string, string>> }; fencingVerified?: { problems: string[] } };
  t.deepEqual(manifest.powerAtStart?.nodes, { node1: { bmc: 'on' }, node2: { bmc: 'on' } }, 'each node\'s power at the run\'s start, from its device');
  t.deepEqual(manifest.fencingVerified?.problems, [], 'fencing verified before the fault, recorded in run.json');
  t.deepEqual(Object.keys(results.checks).sort(), ['convergence', 'failover-time', 'fencing', 'mail-integrity', 'single-primary']);
  t.is(RunStore.readManifest(dir).phase, 'results');
  t.is(RunStore.readManifest(dir).seed, 7);
  const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
  t.regex(junit, /tests="5" failures="0" errors="0"/);
  t.regex(readFileSync(join(dir, 'timeline.html'), 'utf8'), /power-cut-active: PASS/);
  for (const file of ['history.jsonl', 'observations.json', 'run.log', 'nodes/node1/journal.txt', 'nodes/node2/journal.txt', 'bmc/node1-power-log.json']) {
    t.true(existsSync(join(dir, file)), file);
  }
  const secrets = started.secretValues();
  for (const file of ['history.jsonl', 'observations.json', 'run.log', 'run.json', 'results.json', 'nodes/node1/cib.xml', 'nodes/node2/journal.txt']) {
    const text = readFileSync(join(dir, file), 'utf8');
    t.false(secrets.some((s) => text.includes(s)), `no secret in ${file}`);
  }
  t.regex(results.checks['mail-integrity']!.summary, /read back exactly once over IMAP and POP3/);
  // The two DRBD copies compared after the run, block by block (the online verify).
  t.regex(results.checks.convergence!.summary, /the online verify found the two copies identical \([\d.]+ s on node\d\)/);
  t.log(`cluster versions: ${JSON.stringify(results.environment?.clusterVersions)}`);
  t.regex(String((results.environment?.clusterVersions as Record<string, string> | undefined)?.drbd), /^8\.4\.\d+/);
  const report = await run('./bin/ha-chaos', ['report', dir], { timeoutMs: 60_000 });
  t.regex(report.stdout, /^PASS power-cut-active/);
});

test.serial("sabotage: 4 KiB of the passive node's DRBD backing disk changed behind DRBD: the online verify finds them and names the sectors; a reconnect resyncs them, and the copies compare identical again", async (t) => {
  t.timeout(20 * MIN);
  const status = await started.status();
  const primary = status.vipHolders[0]!;
  const passive = started.plan.nodes.map((n) => n.name).find((n) => n !== primary)!;
  const verify = () => storeOf(started.plan).verify!({ root: (node, script, ms) => started.root(node, script, ms), node: primary, log: lab.log, timeoutMs: 10 * MIN });
  // 512 MiB into the 1 GiB disk: sector 1048576 (DRBD's metadata is at the end); not through DRBD, so its peer never learns of it.
  await started.root(passive, 'dd if=/dev/urandom of=/dev/vdb bs=4096 seek=131072 count=1 oflag=direct conv=notrunc status=none', 60_000);
  const found = await verify();
  t.log(JSON.stringify(found));
  t.true(found.ran, found.ran ? '' : found.why);
  t.regex(verifyProblem(found) ?? '', /^the online verify found the store's two copies different: 4 KiB out of sync \(1 4 KiB block\(s\)\), sectors start=1048576, size=8 \(kernel log of node\d\)$/);
  // The blocks it marked out of sync go over on the next connect, from the primary.
  await started.root(primary, 'drbdadm disconnect mail && drbdadm connect mail', 60_000);
  await waitFor(
    'DRBD connected and in sync again',
    async () => {
      const d = (await started.status()).drbd?.[primary];
      return d?.cs === 'Connected' && d.disk === 'UpToDate' && d.peerDisk === 'UpToDate' ? done(true) : notYet(`${d?.cs} ${d?.disk}/${d?.peerDisk}`);
    },
    { timeoutMs: 180_000, intervalMs: 2000 },
  );
  const again = await verify();
  t.true(again.ran);
  t.is(verifyProblem(again), undefined);
});

test.serial('sabotage: DRBD left StandAlone on the primary: the readiness wait ends within 2 minutes naming it and the recovery; a connect repairs it', async (t) => {
  t.timeout(10 * MIN);
  const primary = (await started.status()).vipHolders[0]!;
  // StandAlone as a refused resync or a split brain leaves it: DRBD will not reconnect by itself.
  await started.root(primary, 'drbdadm disconnect mail', 60_000);
  const t0 = Date.now();
  const error = await t.throwsAsync(started.waitReady(5 * MIN), { instanceOf: LabWedgedError });
  const waited = (Date.now() - t0) / 1000;
  t.log(`the wait ended after ${waited.toFixed(1)} s: ${error?.message}`);
  t.true(waited < 120, 'soon after the 30 s a StandAlone may last, not after the 5 min timeout');
  t.regex(error!.message, new RegExp(`DRBD on ${primary} is StandAlone \\(Primary, disk UpToDate\\) for \\d+ s: it does not reconnect by itself`));
  t.regex(error!.message, /fix: choose the copy to discard; on that node: drbdadm secondary mail && drbdadm connect --discard-my-data mail/);
  await started.root(primary, 'drbdadm connect mail', 60_000);
  await started.waitReady(5 * MIN);
});

test.serial('certification: freeze-active: a frozen primary is fenced before its peer promotes', async (t) => {
  t.timeout(30 * MIN);
  const { results } = await runScenario({ target: lab, scenario: SCENARIOS['freeze-active']!, seed: 13, log: lab.log });
  for (const [name, check] of Object.entries(results.checks)) t.log(`${name}: ${String(check.valid)}: ${check.summary}`);
  t.is(results.valid, true, results.summary);
  t.regex(results.checks['single-primary']!.summary, /^never two primaries/);
});

test.serial('existing-cluster target: the lab described as hardware (SSH and IPMI only); heartbeat-loss-active with NIC loss inside the node passes, and no hypervisor call is made', async (t) => {
  t.timeout(30 * MIN);
  const file = await lab.writeTargetFile();
  const target = ExistingCluster.fromFile(file, lab.log, { yes: true });
  try {
    const { dir, results } = await runScenario({ target, scenario: SCENARIOS['heartbeat-loss-active']!, seed: 19, log: lab.log });
    for (const [name, check] of Object.entries(results.checks)) t.log(`${name}: ${String(check.valid)}: ${check.summary}`);
    t.is(results.valid, true, results.summary);
    // The VM tier's heartbeat-loss certification (the lane certifies it too): the isolated node fenced, never its peer.
    t.regex(results.checks.fencing!.summary, new RegExp(`^${String(results.environment?.activeNode)} fenced `));
    const env = results.environment as Record<string, unknown>;
    t.is(env.target, 'cluster');
    t.deepEqual((RunStore.readManifest(dir) as unknown as { preflight: { fencingVerified?: { problems: string[] } } }).preflight.fencingVerified?.problems, [], 'the pre-flight verified fencing');
    t.is(env.hypervisorCalls, 0, JSON.stringify(env.hostPrograms));
    t.regex(String((env.architecture as { nicFaults: string }).nicFaults), /inside the node/);
    const manifest = RunStore.readManifest(dir) as unknown as Record<string, unknown>;
    t.is((manifest.preflight as { cluster: string }).cluster, `${lab.plan.prefix}cluster`);
    t.is(manifest.lab, undefined, 'run.json records the target file, not a lab config');
    const log = readFileSync(join(dir, 'run.log'), 'utf8');
    t.false(started.secretValues().some((s) => log.includes(s)), 'no secret in run.log');
  } finally {
    await target.release();
  }
});

test.serial('lab stop saves both VMs with their state; lab up resumes them where they were, clocks set to the host', async (t) => {
  t.timeout(15 * MIN);
  const before = await started.status();
  const active = before.vipHolders;
  t.deepEqual(await lab.stop(), lab.plan.nodes.map((n) => n.domain));
  for (const n of lab.plan.nodes) t.regex(await virsh('dominfo', n.domain), /^Managed save:\s+yes/m);
  t.false((await run('pgrep', ['-af', 'ipmi_sim'], { timeoutMs: 5000, reject: false })).stdout.includes(lab.dir), 'the BMCs are stopped with the lab');
  const t0 = Date.now();
  started = await lab.up();
  t.log(`lab up resumed the stopped lab in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const after = await started.status();
  t.deepEqual(started.unmet(after), []);
  t.deepEqual(after.vipHolders, active, 'the same node is active: nothing failed over');
  for (const n of lab.plan.nodes) {
    const offset = await measureOffset(started, n.name);
    t.true(Math.abs(offset.offsetMs) < 3000 + offset.uncertaintyMs, `${n.name}'s clock is ${offset.offsetMs} ms off the host's after the resume`);
  }
});

test.serial('lab down leaves nothing behind', async (t) => {
  t.timeout(10 * MIN);
  const report = await lab.down();
  t.is(report.bmcs.length, 2);
  const prefix = lab.plan.prefix;
  t.deepEqual((await virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith(prefix)), []);
  t.deepEqual((await virsh('net-list', '--all', '--name')).split('\n').filter((n) => n.startsWith(prefix)), []);
  t.false((await virsh('vol-list', 'default')).includes(prefix));
  t.false(existsSync(lab.dir));
  const sims = await run('pgrep', ['-af', 'ipmi_sim'], { timeoutMs: 5000, reject: false });
  t.false(sims.stdout.includes(lab.dir));
  // Only this lab's own leftovers: its control sockets' names in /tmp and its private runtime directory (another user's files are not ours to judge).
  t.deepEqual(readdirSync('/tmp').filter((f) => f.startsWith(controlSocketPrefix(lab.dir))), []);
  const ssh = sshFiles(lab.dir);
  if (ssh.fallback) t.false(existsSync(ssh.controlDir), ssh.controlDir);
  t.deepEqual(await lab.down(), { domains: [], networks: [], volumes: [], bmcs: [], stateDir: false }, 'down is idempotent');
});

test.serial('variants: lab up with lab-variants.json and the stand-in Axigen package: one shared disk mounted on the active node only, fencing through two virtual PDUs (fence_apc_snmp over SNMPv3), Axigen run by Pacemaker', async (t) => {
  t.timeout(40 * MIN);
  const deb = await buildStandinPackage(join(stateRoot(), 'fixtures', 'axigen-standin'));
  pduLab = new Lab(parseLabConfig({ ...variantsConfig, mail: { ...variantsConfig.mail, package: deb } }, 'lab-variants.json with the stand-in Axigen package'), pduLab.log);
  const t0 = Date.now();
  const v = await pduLab.up();
  t.log(`variants lab up took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const status = await v.status();
  t.deepEqual(v.unmet(status), []);
  t.is(status.architecture?.storage, 'shared');
  const active = status.vipHolders;
  t.is(active.length, 1);
  t.deepEqual(Object.entries(status.storeMounted ?? {}).filter(([, m]) => m).map(([n]) => n), active, 'the store is mounted where the service runs, nowhere else');
  t.false((status.pacemaker?.resources ?? []).some((r) => r.id.startsWith('drbd')), 'no DRBD on a shared store');
  const volume = `${pduLab.plan.prefix}shared-store.raw`;
  for (const n of pduLab.plan.nodes) t.regex(await virsh('domblklist', n.domain, '--details'), new RegExp(`vdb\\s+/var/lib/libvirt/images/${volume}`), `${n.name} has the shared disk`);
  t.regex(status.architecture?.power.node1 ?? '', /^PDU pdu1 \S+:6241 outlet 1, PDU pdu2 \S+:6242 outlet 1 \(fence_apc_snmp\)$/);
  const fence = (status.pacemaker?.resources ?? []).filter((r) => r.agent === 'stonith:fence_apc_snmp');
  t.deepEqual(fence.map((r) => `${r.id}:${r.role}`).sort(), ['fence_node1_psu1:Started', 'fence_node1_psu2:Started', 'fence_node2_psu1:Started', 'fence_node2_psu2:Started']);
  // Axigen's install path: the package on both nodes, its working directory on the store, one systemd resource.
  const axigen = (status.pacemaker?.resources ?? []).find((r) => r.id === 'axigen');
  t.deepEqual([axigen?.agent, axigen?.nodes], ['systemd:axigen-ha', active], "the harness's own unit, not the vendor's SysV service");
  t.false((status.pacemaker?.resources ?? []).some((r) => r.id === 'smtp' || r.id === 'imap'), 'no Postfix/Dovecot resources');
  const where = await v.root(active[0]!, "readlink /var/opt/axigen; dpkg-query -W -f='${Version}\\n' axigen; systemctl is-enabled axigen.service || true; systemctl show -p RemainAfterExit -p Type --value axigen-ha.service; ss -ltnH | awk '{print $4}' | sort", 30_000);
  t.regex(where.stdout, /^\/srv\/mail\/axigen\n10\.5\.0~hachaos\.standin2\nmasked\n/, 'the vendor SysV service masked');
  t.regex(where.stdout, /\nsimple\nno\n/, 'Type=simple, RemainAfterExit=no');
  for (const port of [25, 110, 143]) t.regex(where.stdout, new RegExp(`^(0\\.0\\.0\\.0|\\*):${port}$`, 'm'), `listening on every address for ${port}, not only 127.0.0.1`);
});

test.serial("variants, certification with the stand-in Axigen: kill-mail-service-active: the supervisor and its child killed; the cluster restarts Axigen (its unit died), and the report says who recovered it", async (t) => {
  t.timeout(30 * MIN);
  const { results, dir } = await runScenario({ target: pduLab, scenario: SCENARIOS['kill-mail-service-active']!, seed: 29, log: pduLab.log });
  for (const [name, check] of Object.entries(results.checks)) t.log(`${name}: ${String(check.valid)}: ${check.summary}`);
  t.is(results.valid, true, results.summary);
  const history = readFileSync(join(dir, 'history.jsonl'), 'utf8');
  t.regex(history, /"hit":\["\d+ \/opt\/axigen\/bin\/axigen [^"]*--foreground","\d+ \/opt\/axigen\/bin\/axigen [^"]*--child"\]/, 'the fault names the processes it hit: the supervisor and its child');
  t.regex(String(results.environment?.recoveredBy ?? ''), /^the cluster/, 'recovered by the cluster (Pacemaker restarted axigen), not by Axigen\'s supervisor');
});

test.serial('variants, certification: power-cut-bmc-dead-active: the PDUs die with the power cut: no takeover until they answer, then both outlets off, then the peer mounts the store', async (t) => {
  t.timeout(30 * MIN);
  const { results, dir } = await runScenario({ target: pduLab, scenario: SCENARIOS['power-cut-bmc-dead-active']!, seed: 17, log: pduLab.log });
  for (const [name, check] of Object.entries(results.checks)) t.log(`${name}: ${String(check.valid)}: ${check.summary}`);
  t.log(`phases: ${JSON.stringify(results.metrics?.phasesSecondsAfterFault)}`);
  t.is(results.valid, true, results.summary);
  const observations = JSON.parse(readFileSync(join(dir, 'observations.json'), 'utf8')) as Observations;
  t.is(observations.store, 'shared');
  const released = observations.fault.releasedAt!;
  t.true(released - observations.fault.injectedAt >= 59_000, 'the PDUs stayed dead for the hold');
  // The outlets' own logs: the cut switched off both supplies of the failed node; the fence (one
  // level: all off, found off already, then all on) switched both back on only after the PDUs answered.
  const failed = observations.fault.node;
  const n = failed.slice(4);
  t.deepEqual(observations.powerSupplies?.[failed], [`pdu1:${n}`, `pdu2:${n}`]);
  const switched = (value: string, from: number, to = Infinity) => observations.powerLog.filter((e) => e.node === failed && e.time >= from && e.time < to && e.value === value && e.result === 'done').map((e) => e.supply).sort();
  t.deepEqual(switched('0', observations.fault.injectedAt - 1000, released), [`pdu1:${n}`, `pdu2:${n}`]);
  t.deepEqual(switched('1', observations.fault.injectedAt - 1000, released), [], 'nothing switched on while the PDUs were dead');
  t.true(switched('1', released).includes(`pdu1:${n}`) && switched('1', released).includes(`pdu2:${n}`), 'both supplies back on after the fence');
  t.regex(results.checks.fencing!.summary, /fenced .* before .* mounted the store/);
  t.regex(results.checks['single-primary']!.summary, /^never two primaries/);
  const mounts = observations.samples.filter((s) => s.source === 'mount');
  t.true(mounts.some((s) => s.node !== failed && s.storeMounted === true), 'the watcher saw the peer mount the store');
  const takeover = observations.takeovers.filter((p) => p.node !== observations.fault.node && p.at >= observations.fault.injectedAt).map((p) => p.at);
  t.true(takeover.length > 0 && Math.min(...takeover) > released, `no mount while the PDUs were dead (released at ${released}, mounts ${takeover.join(', ')})`);
});

test.serial('variants, negative control: with fencing switched off, a split mounts the shared store on both nodes, and the single-primary check reports it', async (t) => {
  t.timeout(15 * MIN);
  const v = await pduLab.up();
  const verdict = await splitWithoutFencing(v, pduLab.log, (line) => t.log(line));
  t.log(`single-primary: ${String(verdict.valid)}: ${verdict.summary}`);
  t.is(verdict.valid, false);
  t.regex(verdict.summary, /^two nodes held the mail store mounted from /);
});

test.serial('variants: lab down stops both PDUs, removes the shared disk and leaves nothing behind', async (t) => {
  t.timeout(10 * MIN);
  const report = await pduLab.down();
  t.deepEqual(report.bmcs.sort(), ['pdu1', 'pdu2']);
  t.true(report.volumes.includes(`${pduLab.plan.prefix}shared-store.raw`), `the shared disk was removed (${report.volumes.join(', ')})`);
  t.deepEqual((await virsh('list', '--all', '--name')).split('\n').filter((d) => d.startsWith(pduLab.plan.prefix)), []);
  t.false((await virsh('vol-list', 'default')).includes(pduLab.plan.prefix));
  const snmpd = await run('pgrep', ['-af', 'snmpd'], { timeoutMs: 5000, reject: false });
  t.false(snmpd.stdout.includes(pduLab.dir));
  t.false(existsSync(pduLab.dir));
});
