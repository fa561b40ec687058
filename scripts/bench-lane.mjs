#!/usr/bin/env node
// Container lane benchmark (a measurement, not a test). Measures, and writes reports/bench-lane-<time>.json:
// - cold: the node image built from Debian packages (`ha-chaos lane image --force`: mmdebstrap + docker import);
// - per scenario, one `certify --lane containers` each: the lane's warm start to ready (image cached,
//   new containers), the scenario's own wall time, the outage, and the whole command's wall time
//   (lane up + scenario + lane down);
// - with --stress: the same beside a CPU hog (stress-ng --cpu 1), as CI's loaded hosts meet it.
// Usage: node scripts/bench-lane.mjs [--skip-cold] [--stress] [--seed 400] [--scenarios power-cut-active,freeze-active]
import { $, argv } from 'zx';
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';

$.verbose = false;
const cli = './bin/ha-chaos';
const scenarios = (argv.scenarios ?? 'power-cut-active,heartbeat-loss-active,freeze-active,kill-corosync-active,kill-mail-service-active').split(',');
const results = { startedAt: new Date().toISOString(), host: { cores: cpus().length, model: cpus()[0]?.model, load1: loadavg()[0] }, stress: Boolean(argv.stress), scenarios: {} };
const seconds = (t0) => Number(((Date.now() - t0) / 1000).toFixed(1));

let hog;
if (argv.stress) hog = $`stress-ng --cpu 1 --timeout 3600s`.nothrow();
try {
  if (!argv['skip-cold']) {
    const t0 = Date.now();
    await $`${cli} lane image --force`;
    results.coldImageBuildS = seconds(t0);
    console.log(`cold image build: ${results.coldImageBuildS} s`);
  }
  let seed = Number(argv.seed ?? 400);
  for (const name of scenarios) {
    const t0 = Date.now();
    const r = await $`${cli} certify --lane containers --scenario ${name} --seed ${seed++}`.nothrow();
    const out = r.stdout + r.stderr;
    const ready = /container lane ready in ([\d.]+) s/.exec(out)?.[1];
    const outage = /failover-time: outage ([\d.]+) s/.exec(out)?.[1];
    const started = /lane ready in/.exec(out) ? Date.parse(/^(\S+) INFO .*container lane ready in/m.exec(out)?.[1] ?? '') : NaN;
    const judged = Date.parse(/^(\S+) INFO .*judge: /m.exec(out)?.[1] ?? '');
    results.scenarios[name] = {
      verdict: /^PASS /m.test(out) ? 'PASS' : /^FAIL /m.test(out) ? 'FAIL' : 'UNKNOWN',
      warmReadyS: ready ? Number(ready) : null,
      scenarioWallS: Number.isFinite(started) && Number.isFinite(judged) ? Number(((judged - started) / 1000).toFixed(1)) : null,
      outageS: outage ? Number(outage) : null,
      commandWallS: seconds(t0),
    };
    console.log(`${name}: ${JSON.stringify(results.scenarios[name])}`);
  }
} finally {
  if (hog) hog.kill();
}
mkdirSync('reports', { recursive: true });
const file = `reports/bench-lane-${results.startedAt.replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written: ${file}`);
