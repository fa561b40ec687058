/**
 * The container lane tier: the lab's cluster in two containers (harness/lane/), built from
 * Debian packages (a cold run builds the node image), certified for real the way a nightly CI job
 * does it: every scenario of the catalogue that applies to containers (thirteen), through the
 * command line, in two shards run one after the other (`certify --lane containers --shard 1/2`,
 * then `2/2`, each bringing its own lane up and down), put back together by `merge-reports`, both
 * loaded into one history, and the `trend` page read back in a browser. Then, on a lane of its
 * own: its status, the faults it cannot do honestly listed as not applicable with the reason, the
 * negative control (fencing off: the split mounts the store twice and the single-primary check
 * says so), and nothing left behind, also by a crashed run (the reaper).
 * Runs in `npm test` beside the VM lab tier (AVA runs two files at once): each is a CPU hog to the
 * other, as a loaded CI host would be, and the verdicts must hold regardless.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { done, notYet, waitFor } from '../../harness/core/wait.ts';
import { fileSink, rootLogger } from '../../harness/core/log.ts';
import { ContainerLane, PID_LABEL, reapLanes } from '../../harness/lane/container-lane.ts';
import { docker } from '../../harness/lane/docker-host.ts';
import { imageTag, LANE_LABEL } from '../../harness/lane/node-image.ts';
import { notApplicable } from '../../harness/faults/catalog.ts';
import type { StartedLane } from '../../harness/lane/container-lane.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';
import { splitWithoutFencing } from '../split-control.ts';
import { openPage } from '../browser.ts';
import { tempDir } from '../helpers.ts';

const MIN = 60_000;
const log = rootLogger('lane-tier').withSink(fileSink('reports/lane-tier.log'));
const lane = new ContainerLane(undefined, log);
let started: StartedLane;
/** The scenarios the lane certifies: every one in the catalogue that applies here, none picked by hand. */
const applicable = Object.values(SCENARIOS).filter((s) => notApplicable(s.fault, lane.traits) === undefined);
/** Where the two shards write, as two CI hosts' artifact directories would be. */
const nightly = tempDir();
const shardDir = (i: number) => join(nightly, `shard-${i}`);

test.after.always(async (t) => {
  t.timeout(5 * MIN);
  await lane.release(); // down (a shard's lane left by an interrupted certify included), and the dockerd it started (if it did) stopped
});

test.serial('not applicable in containers, with the reason: kernel panic, clock jump, netem, disk death, store path loss (and DRBD replication loss); every other scenario is certified', (t) => {
  const reasons = Object.fromEntries(Object.values(SCENARIOS).map((s) => [s.name, notApplicable(s.fault, lane.traits)]));
  t.regex(reasons['kernel-panic-active'] ?? '', /host's/);
  t.regex(reasons['clock-jump-active'] ?? '', /host's/);
  t.regex(reasons['heartbeat-degraded-active'] ?? '', /netem/);
  t.regex(reasons['disk-death-active'] ?? '', /path loss/);
  t.regex(reasons['store-path-loss-active'] ?? '', /unplug/);
  t.regex(reasons['replication-loss-active'] ?? '', /replication link/);
  t.regex(reasons['replication-loss-then-power-cut-active'] ?? '', /replication link/);
  // A new scenario lands in the shards below (certified) unless its fault says why the lane cannot do it.
  t.deepEqual(
    applicable.map((s) => s.name).sort(),
    [
      'client-nic-loss-active', 'disk-full-active', 'freeze-active', 'hard-reset-active', 'heartbeat-loss-active', 'kill-corosync-active',
      'kill-mail-service-active', 'kill-pacemaker-controller-active', 'one-ring-loss-active', 'one-ring-one-way-loss-active',
      'power-cut-active', 'power-cut-bmc-dead-active', 'power-cut-slow-bmc-active', 'power-loss-active',
    ],
  );
  t.is(applicable.length + Object.values(reasons).filter(Boolean).length, Object.keys(SCENARIOS).length);
});

/** The command line as a CI job runs it; its output goes to the tier's log as it comes. */
async function haChaos(args: string[], timeoutMs: number) {
  log.info(`ha-chaos ${args.join(' ')}`);
  const r = await run('./bin/ha-chaos', args, { timeoutMs, reject: false, onLine: (line) => log.info(`| ${line}`) });
  for (const line of r.stderr.split('\n').filter(Boolean)) log.info(`| ${line}`);
  return r;
}

for (const index of [1, 2]) {
  test.serial(`nightly, shard ${index}/2: certify --lane containers --shard ${index}/2 certifies its share of the catalogue on a lane of its own`, async (t) => {
    // A cold run builds the node image in the first shard; each run is bounded by its own scenario's waits.
    t.timeout((index === 1 ? 25 : 5) * MIN + 20 * MIN);
    const t0 = Date.now();
    const r = await haChaos(['certify', '--lane', 'containers', '--shard', `${index}/2`, '--seed', '31', '--reports', shardDir(index)], (index === 1 ? 25 : 5) * MIN + 19 * MIN);
    for (const line of r.stdout.split('\n').filter((l) => /^(PASS|FAIL|UNKNOWN| {2}(ok|FAILED|UNKNOWN)|shard|N\/A|\d+ of \d+)/.test(l))) t.log(line);
    t.log(`wall ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    t.is(r.exitCode, 0, r.stderr.split('\n').slice(-5).join('\n'));
    const assigned = /^shard \d\/2, by catalogue order[^:]*: (.*)$/m.exec(r.stdout)?.[1]?.split(', ') ?? [];
    t.true(assigned.length > 0, 'the assignment is printed at the start');
    const certified = assigned.filter((name) => applicable.some((s) => s.name === name));
    t.regex(r.stdout, new RegExp(`^${certified.length} of ${certified.length} run\\(s\\) passed`, 'm'));
  });
}

test.serial('nightly, merged: one JUnit file and one summary from both shards, every applicable scenario once; both in one history; the trend page read back in a browser', async (t) => {
  t.timeout(5 * MIN);
  const merged = join(nightly, 'merged');
  const m = await haChaos(['merge-reports', shardDir(1), shardDir(2), '--out', merged], 2 * MIN);
  t.is(m.exitCode, 0, m.stdout + m.stderr);
  t.regex(m.stdout, new RegExp(`^${applicable.length} of ${applicable.length} run\\(s\\) passed \\(2 of 2 shards\\)`, 'm'));
  const junit = readFileSync(join(merged, 'merged.junit.xml'), 'utf8');
  // A suite per run, named after its scenario; the scenarios the lane cannot do, skipped with the reason.
  for (const s of applicable) t.is(junit.match(new RegExp(`<testsuite name="ha-chaos\\.${s.name}"`, 'g'))?.length, 1, s.name);
  t.is(junit.match(/<skipped /g)?.length, Object.keys(SCENARIOS).length - applicable.length);

  const history = join(nightly, 'history.db');
  const imported = await haChaos(['history', 'import', shardDir(1), shardDir(2), '--history', history], 2 * MIN);
  t.regex(imported.stdout, new RegExp(`^${applicable.length} run\\(s\\) imported .*; it holds ${applicable.length}$`, 'm'));
  const page = join(nightly, 'trend.html');
  const trend = await haChaos(['trend', '--history', history, '--out', page], 2 * MIN);
  t.is(trend.exitCode, 0, trend.stderr);

  // What each shard measured, read back from the page as a person sees it.
  const { page: browser, errors } = await openPage(t, page);
  for (const dir of [shardDir(1), shardDir(2)]) {
    // Each run directory once (`latest` is a link to one of them).
    for (const name of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'results.json'))).map((e) => e.name)) {
      const results = JSON.parse(readFileSync(join(dir, name, 'results.json'), 'utf8')) as { name: string; metrics: { outageSeconds: number | null }; environment: { clusterVersions: Record<string, string> } };
      const section = browser.locator(`section[data-scenario="${results.name}"][data-config="containers"]`);
      t.is(await section.locator('td.runs').textContent(), '1', results.name);
      t.is(await section.locator('td.pass-rate').textContent(), '100%', results.name);
      const outage = results.metrics.outageSeconds;
      t.is(await section.locator('td.p50').textContent(), outage === null ? '-' : `${outage.toFixed(1)} s`, results.name);
      // The cluster's own versions, read from the nodes: Pacemaker and Corosync on every lane.
      t.regex(results.environment.clusterVersions.pacemaker ?? '', /^\d+\.\d+/, results.name);
      t.regex(results.environment.clusterVersions.corosync ?? '', /^\d+\.\d+/, results.name);
    }
  }
  t.is(await browser.locator('section[data-config="containers"]').count(), applicable.length);
  t.deepEqual(errors, []);
});

test.serial('a lane of its own: up for the checks below', async (t) => {
  t.timeout(15 * MIN, 'lane up');
  const t0 = Date.now();
  started = await lane.up();
  t.log(`lane up took ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(lane.timings)}`);
  t.is(started.accel, 'container');
});

test.serial('status: both containers in the cluster, the shared disk mounted on the active node only, each node fenced through its own virtual BMC', async (t) => {
  const status = await started.status();
  t.deepEqual(started.unmet(status), []);
  t.is(status.accel, 'container');
  const active = status.vipHolders;
  t.is(active.length, 1);
  t.deepEqual(Object.entries(status.storeMounted ?? {}).filter(([, m]) => m).map(([n]) => n), active);
  t.deepEqual(status.power, { node1: 'on', node2: 'on' });
  const fence = (status.pacemaker?.resources ?? []).filter((r) => r.agent === 'stonith:fence_ipmilan').map((r) => `${r.id}:${r.role}`).sort();
  t.deepEqual(fence, ['fence_node1:Started', 'fence_node2:Started']);
  for (const id of ['fs_mail', 'vip', 'smtp', 'imap']) t.deepEqual(status.pacemaker?.resources.find((r) => r.id === id)?.nodes, active, id);
  const arch = started.architecture();
  t.regex(arch.nicFaults, /veth/);
  t.regex(arch.equivalents?.['power cut'] ?? '', /killed/);
  // Real parts: the node runs systemd and the Debian cluster stack, and /dev/vdb is the loop device.
  const node = await started.root(active[0]!, 'readlink /proc/1/exe; corosync -v | head -1; findmnt -n -o SOURCE,FSTYPE /srv/mail', 30_000);
  t.regex(node.stdout, /systemd\n.*Corosync Cluster Engine.*\n\/dev\/vdb ext4/);
});

test.serial("sabotage: the passive node's pingd erased from the CIB behind attrd (what a controller respawn leaves): readiness names it; the connectivity agent writes it back within a minute", async (t) => {
  t.timeout(5 * MIN);
  const before = await started.status();
  const passive = started.plan.nodes.map((n) => n.name).find((n) => !before.vipHolders.includes(n))!;
  // Straight into the CIB, as the DC does when a node's controller leaves: attrd keeps its value, so it has nothing new to write.
  await started.root(passive, `cibadmin --delete --xpath "//node_state[@uname='${passive}']/transient_attributes//nvpair[@name='pingd']"`, 30_000);
  const unmet = started.unmet(await started.status());
  t.true(unmet.some((u) => u.startsWith(`${passive} cannot take the mail service over: its connectivity attribute pingd is not in the CIB`)), unmet.join('; '));
  const back = await waitFor(
    `the pingd attribute of ${passive} back in the CIB`,
    async () => {
      const still = started.unmet(await started.status());
      return still.some((u) => u.startsWith(passive)) ? notYet(still.join('; ')) : done(still);
    },
    { timeoutMs: 120_000, intervalMs: 3000 },
  );
  t.deepEqual(back, []);
});

test.serial('container lane, negative control: with fencing switched off, a split mounts the shared disk on both containers, and the single-primary check reports it', async (t) => {
  t.timeout(10 * MIN);
  const v = await lane.up();
  const verdict = await splitWithoutFencing(v, lane.log, (line) => t.log(line));
  t.log(`single-primary: ${String(verdict.valid)}: ${verdict.summary}`);
  t.is(verdict.valid, false);
  t.regex(verdict.summary, /^two nodes held the mail store mounted from /);
});

test.serial('lane down leaves nothing behind; a lane left by a dead process is reaped by its labels', async (t) => {
  t.timeout(5 * MIN);
  const report = await lane.down();
  t.deepEqual(report.containers.sort(), ['hachaos-containers-node1', 'hachaos-containers-node2']);
  t.is(report.networks.length, 5);
  t.deepEqual(report.bmcs.sort(), ['node1', 'node2']);
  t.is(report.loopDevices.length, 1);
  t.false(existsSync(lane.dir));
  t.is((await docker(['ps', '-a', '--filter', `label=${LANE_LABEL}=containers`, '-q'])).stdout.trim(), '');
  t.is((await docker(['network', 'ls', '--filter', `label=${LANE_LABEL}=containers`, '-q'])).stdout.trim(), '');
  t.false((await run('pgrep', ['-af', 'ipmi_sim'], { timeoutMs: 5000, reject: false })).stdout.includes('/lane/'));
  // A crashed run's container: labelled with a process that is gone.
  const dead = (await run('sh', ['-c', 'sh -c "echo \\$\\$" '], { timeoutMs: 5000 })).stdout.trim();
  await docker(['create', '--name', 'hachaos-reapme-node1', '--label', `${LANE_LABEL}=reapme`, '--label', `${PID_LABEL}=${dead}`, imageTag()]);
  t.deepEqual(await reapLanes(lane.log), ['reapme']);
  t.is((await docker(['ps', '-a', '--filter', `label=${LANE_LABEL}=reapme`, '-q'])).stdout.trim(), '');
});
