/**
 * The run store: one directory per run, `reports/<run-id>/`, written in phases so that a run
 * that crashes still leaves its evidence. `run.json` is written first (phase `started`, with the
 * seed), the history is appended line by line as it happens, and `results.json` + `junit.xml`
 * are written last, after the results validate against their schema. `reports/latest` points at
 * the newest run. Every file passes through secret redaction.
 */
import { mkdirSync, renameSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { redact } from '../core/secrets.ts';
import { validate } from '../core/schema.ts';
import { fileSink, type Logger } from '../core/log.ts';
import { History } from '../history/history.ts';
import { toJUnit } from './junit.ts';
import { readManifest } from './run-dir.ts';
import type { RunResults } from './results.ts';

export type RunPhase = 'started' | 'history' | 'results' | 'crashed';

/** The run's manifest: enough to know what ran and to run it again. */
export interface RunManifest {
  runId: string;
  name: string;
  seed: number;
  phase: RunPhase;
  startedAt: string;
  updatedAt: string;
  argv: string[];
  host: string;
  node: string;
  /** Anything else needed to replay (scenario, lab config without secrets...). */
  [key: string]: unknown;
}

export interface CreateRunOptions {
  /** The directory holding all runs. Default `reports` under the current directory. */
  root?: string;
  name: string;
  seed: number;
  /** Extra manifest fields, e.g. the scenario. */
  meta?: Record<string, unknown>;
  log: Logger;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'run';
}

function stamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-25T10:52:02.123Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/** Writes `text` to `path` atomically (temp file + rename), redacted. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, redact(text));
  renameSync(tmp, path);
}

/** One run's directory and its phased writes. */
export class RunStore {
  readonly history: History;
  readonly log: Logger;
  private manifest: RunManifest;

  private constructor(
    readonly dir: string,
    manifest: RunManifest,
    log: Logger,
  ) {
    this.manifest = manifest;
    this.history = new History(join(dir, 'history.jsonl'));
    this.log = log.withSink(fileSink(join(dir, 'run.log')));
  }

  /** Creates `reports/<run-id>/`, writes the `started` manifest, and points `latest` at it. */
  static create(options: CreateRunOptions): RunStore {
    const root = resolve(options.root ?? 'reports');
    const started = new Date();
    const runId = `${stamp(started)}-${safeName(options.name)}-${randomBytes(2).toString('hex')}`;
    const dir = join(root, runId);
    mkdirSync(dir, { recursive: true });
    const manifest: RunManifest = {
      ...options.meta,
      runId,
      name: options.name,
      seed: options.seed,
      phase: 'started',
      startedAt: started.toISOString(),
      updatedAt: started.toISOString(),
      argv: process.argv.slice(2),
      host: hostname(),
      node: process.version,
    };
    const store = new RunStore(dir, manifest, options.log);
    store.writeManifest();
    writeFileSync(join(dir, 'history.jsonl'), '');
    const latest = join(root, 'latest');
    const tmpLink = `${latest}.tmp-${process.pid}`;
    rmSync(tmpLink, { force: true });
    symlinkSync(runId, tmpLink);
    renameSync(tmpLink, latest);
    store.log.info(`run ${runId} started`, { seed: options.seed, dir });
    return store;
  }

  get runId(): string {
    return this.manifest.runId;
  }
  get seed(): number {
    return this.manifest.seed;
  }
  get startedAt(): string {
    return this.manifest.startedAt;
  }

  /** Moves the manifest to `phase`, merging `extra` into it. */
  setPhase(phase: RunPhase, extra: Record<string, unknown> = {}): void {
    this.manifest = { ...this.manifest, ...extra, phase, updatedAt: new Date().toISOString() };
    this.writeManifest();
  }

  /** Writes a JSON file into the run directory (redacted, atomic). */
  writeJson(name: string, data: unknown): string {
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeAtomic(path, `${JSON.stringify(data, null, 2)}\n`);
    return path;
  }

  /** Writes a text file into the run directory (redacted, atomic). */
  writeText(name: string, text: string): string {
    const path = join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeAtomic(path, text);
    return path;
  }

  /** Validates the results, then writes results.json and junit.xml, and moves to phase `results`. */
  writeResults(results: RunResults): void {
    validate<RunResults>('results', results, `results of run ${this.runId}`);
    this.writeJson('results.json', results);
    this.writeText('junit.xml', toJUnit(results));
    this.setPhase('results', { valid: results.valid });
    this.log.info(`run ${this.runId} verdict: ${String(results.valid)}`, { summary: results.summary });
  }

  private writeManifest(): void {
    this.writeJson('run.json', this.manifest);
  }

  /** Reads a run directory's manifest, validated against schemas/run.schema.json (see run-dir.ts). */
  static readManifest(dir: string): RunManifest {
    return readManifest(dir);
  }
}
