#!/usr/bin/env -S node --import=tsx
// Run history benchmark (a measurement, not a test): 10,000 synthetic runs (20 scenarios x 4
// configurations, a year of nights) recorded into a fresh history, saved, opened again, and the
// trend page written from it. Prints the rates and writes reports/bench-history-<time>.json.
// Usage: node --import=tsx scripts/bench-history.ts [--runs 10000]
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunHistory, type HistoryRow } from '../harness/report/run-history.ts';
import { renderTrendPage } from '../harness/report/trend.ts';
import { FAULT_KINDS } from '../harness/scenario/scenario.ts';

const flag = process.argv.indexOf('--runs');
const runs = flag > 0 ? Number(process.argv[flag + 1]) : 10_000;
if (!Number.isInteger(runs) || runs < 1 || runs > 1_000_000) throw new Error('--runs: a whole number of runs from 1 to 1000000');
const configs = ['lab', 'shared', 'pdu', 'variants'];
const rows: HistoryRow[] = Array.from({ length: runs }, (_, i) => {
  const scenario = FAULT_KINDS[i % FAULT_KINDS.length]!;
  const config = configs[Math.floor(i / FAULT_KINDS.length) % configs.length]!;
  const night = Math.floor(i / (FAULT_KINDS.length * configs.length));
  const outage = 40 + ((i * 7919) % 60);
  const valid = i % 37 === 0 ? false : i % 101 === 0 ? 'unknown' : true;
  return {
    runId: `run-${String(i).padStart(6, '0')}`,
    scenario,
    config,
    harnessVersion: `0.1.0+${(Math.floor(night / 30) + 0x1000000).toString(16).slice(-7)}`,
    startedAt: new Date(Date.UTC(2026, 0, 1) + night * 86_400_000 + (i % 80) * 60_000).toISOString(),
    valid,
    outageSeconds: outage,
    variant: config === 'lab' ? 'drbd/ipmi/postfix-dovecot' : 'shared/pdu/axigen',
    clusterVersions: { kernel: '6.1.0-28-amd64', pacemaker: night < 180 ? '2.1.5' : '2.1.6', corosync: '3.1.7' },
    hostSpeed: 1480,
    overload: [],
    seed: i,
    checks: { 'failover-time': valid, fencing: true, 'mail-integrity': true, 'single-primary': true, convergence: true },
    phases: { detected: 1.4, 'fence-requested': 8, 'fence-confirmed': 22 + (i % 5), 'fs-mounted': 30 + (i % 7), 'ip-up': 38, 'service-answering': outage },
    protocols: { smtp: outage, imap: outage - 1 },
    dir: `/reports/run-${i}`,
  };
});

const dir = mkdtempSync(join(tmpdir(), 'ha-chaos-bench-history-'));
const file = join(dir, 'history.db');
const t0 = performance.now();
const history = await RunHistory.open(file);
history.record(rows);
history.save();
history.close();
const recordS = (performance.now() - t0) / 1000;
const t1 = performance.now();
const again = await RunHistory.open(file);
const read = again.runs();
again.close();
const readS = (performance.now() - t1) / 1000;
const t2 = performance.now();
const page = renderTrendPage(read, ['detected', 'fence-requested', 'fence-confirmed', 'fs-mounted', 'ip-up', 'service-answering']);
const trendS = (performance.now() - t2) / 1000;
const result = {
  at: new Date().toISOString(),
  host: { cores: cpus().length, model: cpus()[0]?.model, load1: loadavg()[0] },
  runs,
  recordAndSaveSeconds: Number(recordS.toFixed(3)),
  recordRatePerSecond: Math.round(runs / recordS),
  openAndReadSeconds: Number(readS.toFixed(3)),
  trendPageSeconds: Number(trendS.toFixed(3)),
  historyBytes: statSync(file).size,
  pageBytes: page.length,
};
console.log(JSON.stringify(result, null, 2));
mkdirSync('reports', { recursive: true });
writeFileSync(join('reports', `bench-history-${result.at.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
