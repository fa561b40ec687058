#!/usr/bin/env node
// Lab benchmark (a measurement, not a test). Measures, and writes reports/bench-lab-<time>.json:
// - the host: cores, load, and the speed figure the scenario run measured (sha256 MB/s, one core);
// - `lab up` cold (box rebuilt), from new VMs (box cached), warm (a lab stopped with `lab stop`,
//   resumed), again on a running lab, `lab stop`, `lab down`;
// - an idle guest: busy share, 1-minute load, CPU by group and the top commands (60 s window);
// - one failover scenario: wall time split into prepare, exercise (failover inside), converge,
//   gather and judge, and the guests' CPU while the workload ran before the fault, with the
//   harness's share (its SSH sessions + the mail service's CPU above idle, which serves the
//   workload's sends and probes);
// - memory per VM.
// Usage: node scripts/bench-lab.mjs [--skip-cold] [--keep-lab] [--scenario power-cut-active] [--seed 5]
//        node scripts/bench-lab.mjs --running   (measure a lab that is up: idle load + one scenario)
import { $, argv, fs } from 'zx';
import { cpus, loadavg } from 'node:os';

$.verbose = false;
const cli = './bin/ha-chaos';
const results = { startedAt: new Date().toISOString() };

async function timed(name, fn) {
  const t0 = Date.now();
  await fn();
  results[name] = Number(((Date.now() - t0) / 1000).toFixed(1));
  console.log(`${name}: ${results[name]} s`);
}

async function qemuMemory() {
  const ps = await $`ps -C qemu-system-x86_64 -o rss=,args=`.nothrow();
  const vms = {};
  for (const line of ps.stdout.trim().split('\n').filter(Boolean)) {
    const [rss] = line.trim().split(/\s+/);
    const name = /guest=([^,\s]+)/.exec(line)?.[1] ?? 'unknown';
    vms[name] = { hostRssMiB: Math.round(Number(rss) / 1024) };
  }
  return vms;
}

results.host = { cores: cpus().length, model: cpus()[0]?.model, load1: loadavg()[0] };

if (!argv.running) {
  await $`${cli} lab down`.nothrow();
  if (!argv['skip-cold']) {
    // Cold: force a box rebuild by removing the cached box, then up.
    const boxes = (await $`vagrant box list --machine-readable`).stdout.split('\n').map((l) => l.split(',')[3]).filter((n) => n?.startsWith('ha-chaos/'));
    for (const box of new Set(boxes)) await $`vagrant box remove --force --all ${box}`.nothrow();
    await $`sh -c 'rm -rf /var/lib/libvirt/boot/ha-chaos-[0-9a-f]*'`;
    await $`sh -c 'for v in $(virsh -c qemu:///system vol-list default | awk "/ha-chaos-VAGRANTSLASH/ {print \\$1}"); do virsh -c qemu:///system vol-delete --pool default $v; done'`.nothrow();
    await timed('lab up, cold (box build included)', () => $`${cli} lab up`);
    const log = await fs.readFile('.state/lab/lab/lab.log', 'utf8');
    const m = /mmdebstrap[^\n]*done in ([\d.]+) s/.exec(log);
    if (m) results['box build: mmdebstrap'] = Number(m[1]);
    await timed('lab down', () => $`${cli} lab down`);
  }
  await timed('lab up, new VMs (box cached)', () => $`${cli} lab up`);
  await timed('lab stop (both VMs saved with their state)', () => $`${cli} lab stop`);
  await timed('lab up, warm (the stopped lab resumed)', () => $`${cli} lab up`);
  await timed('lab up, already up (idempotent)', () => $`${cli} lab up`);
}

// The idle lab: a 60 s window of guest CPU accounting.
const idle = JSON.parse((await $`${cli} lab load --seconds 60 --json`).stdout);
results.idle = idle;
for (const g of idle) {
  if (g.error) console.log(`idle ${g.node}: ${g.error}`);
  else console.log(`idle ${g.node}: busy ${g.busyPercent}%, load ${g.load1}; top: ${g.top.slice(0, 6).map((c) => `${c.comm} ${c.percent}%`).join(', ')}`);
}

// One failover scenario, end to end.
const scenario = argv.scenario ?? 'power-cut-active';
const seed = String(argv.seed ?? 5);
const t0 = Date.now();
await $`${cli} certify --scenario ${scenario} --seed ${seed}`.nothrow();
const wall = (Date.now() - t0) / 1000;
const run = JSON.parse(await fs.readFile('reports/latest/results.json', 'utf8'));
// The run measured the host's speed figure at its start (harness/observe/host-load.ts): one definition.
results.host = { ...results.host, ...run.environment?.host };
console.log(`host: ${results.host.cores} cores, speed ${results.host.sha256MBps} MB/s (sha256, one core)`);
const steady = run.metrics?.guestLoad?.steadyWindow ?? [];
const mailIdle = Object.fromEntries(idle.filter((g) => !g.error).map((g) => [g.node, g.groups.mail]));
results.scenario = {
  name: scenario,
  seed: Number(seed),
  valid: run.valid,
  outageSeconds: run.metrics?.outageSeconds,
  wallSeconds: Number(wall.toFixed(1)),
  steps: run.metrics?.stepSeconds,
  guestsBeforeFault: steady.map((g) =>
    g.error
      ? g
      : {
          node: g.node,
          windowS: g.windowS,
          busyPercent: g.busyPercent,
          groups: g.groups,
          harnessSharePercent: Number((g.groups.harness + Math.max(0, g.groups.mail - (mailIdle[g.node] ?? 0))).toFixed(1)),
          top: g.top.slice(0, 8),
        },
  ),
  peakLoad1AfterFault: run.metrics?.guestLoad?.peakLoad1AfterFault,
  hostPeakLoad1: run.environment?.host?.peakLoad1,
  overload: run.environment?.overload,
};
console.log(`${scenario}: ${run.valid === true ? 'PASS' : 'NOT PASSED'}, outage ${run.metrics?.outageSeconds} s, wall ${wall.toFixed(0)} s, steps ${JSON.stringify(run.metrics?.stepSeconds)}`);
for (const g of results.scenario.guestsBeforeFault) {
  if (!g.error) console.log(`  ${g.node} under the workload: busy ${g.busyPercent}%, harness share ${g.harnessSharePercent}% (ssh ${g.groups.harness}%, mail ${g.groups.mail}% vs ${mailIdle[g.node] ?? '?'}% idle)`);
}

results.memory = await qemuMemory();
for (const node of ['node1', 'node2']) {
  const free = await $`${cli} lab ssh ${node} -- free -m`.nothrow();
  const used = /Mem:\s+(\d+)\s+(\d+)/.exec(free.stdout);
  const key = Object.keys(results.memory).find((k) => k.endsWith(node));
  if (key && used) results.memory[key].guestUsedMiB = Number(used[2]);
}
console.log('memory per VM:', JSON.stringify(results.memory));
if (!argv['keep-lab'] && !argv.running) await timed('lab down', () => $`${cli} lab down`);
const file = `reports/bench-lab-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
await fs.writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written: ${file}`);
