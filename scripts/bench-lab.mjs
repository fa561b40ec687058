#!/usr/bin/env node
// Lab benchmark (a measurement, not a test): box build, `lab up` cold (box rebuilt) and warm
// (box cached, fresh VMs), `lab up` again on a running lab, `lab down`, and memory per VM.
// Usage: node scripts/bench-lab.mjs [--skip-cold]. Prints a table; writes reports/bench-lab-<time>.json.
import { $, argv, fs } from 'zx';

$.verbose = false;
const cli = './bin/ha-chaos';
const results = {};

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
await timed('lab up, warm (box cached, new VMs)', () => $`${cli} lab up`);
await timed('lab up, already up (idempotent)', () => $`${cli} lab up`);
results.memory = await qemuMemory();
for (const node of ['node1', 'node2']) {
  const free = await $`${cli} lab ssh ${node} -- free -m`.nothrow();
  const used = /Mem:\s+(\d+)\s+(\d+)/.exec(free.stdout);
  const key = Object.keys(results.memory).find((k) => k.endsWith(node));
  if (key && used) results.memory[key].guestUsedMiB = Number(used[2]);
}
console.log('memory per VM:', JSON.stringify(results.memory));
await timed('lab down', () => $`${cli} lab down`);
const file = `reports/bench-lab-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
await fs.writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written: ${file}`);
