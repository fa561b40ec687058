/**
 * A lab's calibration: the healthy power cut run N times on this host, its outage and phases
 * summarised (median and spread), stored per lab config and host. A scenario's SLO is absolute
 * (seconds: for KVM or real hardware) or relative to this baseline (at most `factor` times the
 * baseline median, plus `extraSeconds` for what the scenario adds on purpose, e.g. a BMC held
 * dead for 60 s). An emulated (TCG) lab uses the relative SLO once it is calibrated; the verdict
 * says which SLO applied and why.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readJsonFile } from '../core/json-file.ts';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { stateRoot, ensureStateDir } from '../core/paths.ts';
import type { AppliedSlo } from '../check/observations.ts';
import type { Scenario } from '../scenario/scenario.ts';
import type { LabConfig } from '../cluster/lab-config.ts';
import { writePrivateFile } from '../core/host-files.ts';

/** The scenario a baseline is made of. */
export const BASELINE_SCENARIO = 'power-cut-active';

/** Median and spread of a series of seconds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Median absolute deviation. */
  mad: number;
  n: number;
}

/** One lab's calibration on one host. */
export interface Baseline {
  schemaVersion: 1;
  lab: string;
  /** Hash of the lab config it was measured with: another config is another lab. */
  configHash: string;
  host: { name: string; cores: number; model: string; sha256MBps: number; accel: string };
  scenario: string;
  calibratedAt: string;
  runs: { runId: string; seed: number; outageSeconds: number | null; valid: unknown }[];
  outage: Spread;
  /** Per phase, seconds after the fault. */
  phases: Record<string, Spread>;
}

const round = (n: number) => Number(n.toFixed(2));

/** Median and spread; undefined for no values. Pure. */
export function spread(values: number[]): Spread | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (xs: number[]) => (xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2);
  const median = mid(sorted);
  return { median: round(median), min: round(sorted[0]!), max: round(sorted.at(-1)!), mad: round(mid(sorted.map((v) => Math.abs(v - median)).sort((a, b) => a - b))), n: values.length };
}

/** The hash of a lab config, as baselines key it (everything but comments). */
export function configHash(config: LabConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(config, (k, v: unknown) => (k === '$comment' ? undefined : v)))
    .digest('hex')
    .slice(0, 12);
}

export function baselineFile(lab: string): string {
  return join(stateRoot(), 'calibration', `${lab}.json`);
}

export function saveBaseline(baseline: Baseline): string {
  const file = baselineFile(baseline.lab);
  ensureStateDir(join(stateRoot(), 'calibration'));
  writePrivateFile(file, `${JSON.stringify(baseline, null, 2)}\n`);
  return file;
}

/** The lab's baseline if one was made for this config on this host, or why there is none. */
export function loadBaseline(config: LabConfig): { baseline?: Baseline; why?: string } {
  const file = baselineFile(config.name);
  if (!existsSync(file)) return { why: `lab not calibrated (run: ha-chaos calibrate)` };
  let baseline: Baseline;
  try {
    // State the harness wrote, but read as any input: a bounded regular file, strict JSON.
    baseline = readJsonFile(file, { maxBytes: 1024 * 1024, what: 'calibration' }).value as Baseline;
    if (typeof baseline?.outage?.median !== 'number' || !(baseline.outage.median > 0 && baseline.outage.median <= 3600)) throw new Error('no outage median from 0 to 3600 s in it');
  } catch (error) {
    return { why: `calibration ${file} unreadable (${(error as Error).message.split('\n')[0]!.slice(0, 120)}); run: ha-chaos calibrate` };
  }
  if (baseline.configHash !== configHash(config)) return { why: `the calibration was made with another lab config (run: ha-chaos calibrate)` };
  if (baseline.host?.name !== hostname()) return { why: `the calibration was made on another host (${baseline.host?.name}); run: ha-chaos calibrate` };
  return { baseline };
}

/**
 * The SLO a run is held to. Pure. Relative when the scenario has one, the lab is emulated (or
 * `preferRelative`), and a baseline exists; absolute otherwise, with the reason.
 */
export function resolveSlo(scenario: Scenario, options: { accel: string; baseline?: Baseline; why?: string }): AppliedSlo {
  const absolute = scenario.slo.maxOutageSeconds;
  const relative = scenario.slo.relative;
  if (!relative) return { maxOutageSeconds: absolute, kind: 'absolute', basis: `${absolute} s (the scenario has no relative SLO)` };
  if (options.accel === 'hardware') return { maxOutageSeconds: absolute, kind: 'absolute', basis: `${absolute} s (absolute: an existing cluster)` };
  if (options.accel !== 'tcg') return { maxOutageSeconds: absolute, kind: 'absolute', basis: `${absolute} s (absolute: ${options.accel.toUpperCase()} lab)` };
  const b = options.baseline;
  if (!b) return { maxOutageSeconds: absolute, kind: 'absolute', basis: `${absolute} s (absolute: ${options.why ?? 'lab not calibrated'})` };
  const limit = round(relative.factor * b.outage.median + (relative.extraSeconds ?? 0));
  const extra = relative.extraSeconds ? ` + ${relative.extraSeconds} s` : '';
  return {
    maxOutageSeconds: limit,
    kind: 'relative',
    basis: `${limit} s = ${relative.factor} x the calibrated baseline ${b.outage.median} s${extra} (${b.scenario}, ${b.outage.n} runs, spread ${b.outage.min}-${b.outage.max} s, ${b.calibratedAt.slice(0, 10)})`,
  };
}
