/**
 * The container lane tier: the lab's cluster in two containers (harness/lane/), built from
 * Debian packages (a cold run builds the node image), certified for real: every scenario of the
 * catalogue that applies to containers (thirteen); the faults it cannot do honestly listed as not
 * applicable, with the reason; the negative control (fencing off: the split mounts the store twice and the
 * single-primary check says so); and nothing left behind, also by a crashed run (the reaper).
 * Runs in `npm test` beside the VM lab tier, holding the host lock while its containers run.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { run } from '../../harness/core/exec.ts';
import { fileSink, rootLogger } from '../../harness/core/log.ts';
import { ContainerLane, PID_LABEL, reapLanes } from '../../harness/lane/container-lane.ts';
import { docker } from '../../harness/lane/docker-host.ts';
import { imageTag, LANE_LABEL } from '../../harness/lane/node-image.ts';
import { notApplicable } from '../../harness/faults/catalog.ts';
import type { StartedLane } from '../../harness/lane/container-lane.ts';
import { runScenario } from '../../harness/run/run-scenario.ts';
import { SCENARIOS } from '../../harness/scenario/catalog.ts';
import { holdHostLock, releaseHostLock, splitWithoutFencing } from '../split-control.ts';

const MIN = 60_000;
const lane = new ContainerLane(undefined, rootLogger('lane-tier').withSink(fileSink('reports/lane-tier.log')));
let started: StartedLane;

test.before(async (t) => {
  t.timeout(25 * MIN, 'lane up (a cold run builds the node image)');
  holdHostLock();
  const t0 = Date.now();
  started = await lane.up();
  t.log(`lane up took ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(lane.timings)}`);
});

test.after.always(async (t) => {
  t.timeout(5 * MIN);
  try {
    await lane.release(); // down, and the dockerd it started (if it did) stopped
  } finally {
    releaseHostLock();
  }
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

/** The scenarios the lane certifies: every one in the catalogue that applies here, none picked by hand. */
const applicable = Object.values(SCENARIOS).filter((s) => notApplicable(s.fault, lane.traits) === undefined);

test.serial('not applicable in containers, with the reason: kernel panic, clock jump, netem, disk death, store path loss (and DRBD replication loss); every other scenario is certified below', (t) => {
  const reasons = Object.fromEntries(Object.values(SCENARIOS).map((s) => [s.name, notApplicable(s.fault, lane.traits)]));
  t.regex(reasons['kernel-panic-active'] ?? '', /host's/);
  t.regex(reasons['clock-jump-active'] ?? '', /host's/);
  t.regex(reasons['heartbeat-degraded-active'] ?? '', /netem/);
  t.regex(reasons['disk-death-active'] ?? '', /path loss/);
  t.regex(reasons['store-path-loss-active'] ?? '', /unplug/);
  t.regex(reasons['replication-loss-active'] ?? '', /replication link/);
  t.regex(reasons['replication-loss-then-power-cut-active'] ?? '', /replication link/);
  // A new scenario lands here (certified) unless its fault says why the lane cannot do it.
  t.deepEqual(
    applicable.map((s) => s.name).sort(),
    [
      'client-nic-loss-active', 'disk-full-active', 'freeze-active', 'hard-reset-active', 'heartbeat-loss-active', 'kill-corosync-active',
      'kill-mail-service-active', 'kill-pacemaker-controller-active', 'one-ring-loss-active', 'one-ring-one-way-loss-active',
      'power-cut-active', 'power-cut-bmc-dead-active', 'power-cut-slow-bmc-active',
    ],
  );
  t.is(applicable.length + Object.values(reasons).filter(Boolean).length, Object.keys(SCENARIOS).length);
});

applicable.forEach((scenario, i) =>
  test.serial(`container lane, certification: ${scenario.name} passes`, async (t) => {
    // The held faults hold 60 s and a dead BMC delays the fence: the scenario's own bounds, plus the lane's prepare and convergence.
    t.timeout((scenario.workload.warmupSeconds + 5 + (scenario.holdSeconds ?? 0) + scenario.workload.recoveryTimeoutSeconds + scenario.workload.cooldownSeconds) * 1000 + 5 * MIN);
    const t0 = Date.now();
    const { results } = await runScenario({ target: lane, scenario, seed: 31 + i, log: lane.log });
    for (const [check, r] of Object.entries(results.checks)) t.log(`${check}: ${String(r.valid)}: ${r.summary}`);
    t.log(`wall ${((Date.now() - t0) / 1000).toFixed(0)} s; phases: ${JSON.stringify(results.metrics?.phasesSecondsAfterFault)}`);
    t.is(results.valid, true, results.summary);
    const env = results.environment as { target: string; accel: string; architecture: { equivalents?: Record<string, string> } };
    t.is(env.target, 'containers');
    t.is(env.accel, 'container');
    t.truthy(env.architecture.equivalents?.freeze, 'the report says how each fault is done here');
  }),
);

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
