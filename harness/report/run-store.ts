/**
 * The run store: one directory per run, `reports/<run-id>/`, written in phases so that a run
 * that crashes still leaves its evidence. `run.json` is written first (phase `started`, with the
 * seed), the history is appended line by line as it happens, and `results.json` + `junit.xml`
 * are written last, after the results validate against their schema. `reports/latest` points at
 * the newest run. Every file passes through secret redaction.
 */
import { lstatSync, mkdirSync, renameSync, symlinkSync, rmSync } from 'node:fs';
import { writePrivateFile } from '../core/host-files.ts';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { redact } from '../core/secrets.ts';
import { validate, ValidationError } from '../core/schema.ts';
import { fileSink, type Logger } from '../core/log.ts';
import { History } from '../history/history.ts';
import { toJUnit } from './junit.ts';
import { readManifest, type RunManifest, type RunPhase } from './run-dir.ts';
import type { RunResults } from './results.ts';


/** The run's manifest: enough to know what ran and to run it again. */
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

/** Writes `text` to `path` atomically (temp file + rename), redacted; never through a link. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writePrivateFile(tmp, redact(text), 0o644);
  renameSync(tmp, path);
}

/**
 * Checks (and makes) the directory that holds the runs: a real directory, not a link, not
 * writable by everyone. `--reports /dev/null` or a file is bad input (exit code 2), said before
 * anything starts, not a failure half-way through a run.
 */
export function ensureReportsDir(root: string): string {
  const path = resolve(root);
  const fail = (problem: string) => new ValidationError('--reports', [`--reports: ${path} ${problem}`]);
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(`cannot be used (${(error as NodeJS.ErrnoException).code})`);
    try {
      mkdirSync(path, { recursive: true, mode: 0o755 });
    } catch (made) {
      throw fail(`cannot be made (${(made as NodeJS.ErrnoException).code}): a part of it is not a directory, or not writable`);
    }
    stats = lstatSync(path);
  }
  if (stats.isSymbolicLink()) throw fail('is a symbolic link; name the directory it points to');
  if (!stats.isDirectory()) throw fail('is not a directory');
  if ((stats.mode & 0o002) !== 0 && (stats.mode & 0o1000) === 0) throw fail('is writable by every user; use a directory of your own');
  return path;
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
    const root = ensureReportsDir(options.root ?? 'reports');
    const started = new Date();
    const runId = `${stamp(started)}-${safeName(options.name)}-${randomBytes(2).toString('hex')}`;
    const dir = join(root, runId);
    // Not recursive: a run directory that already exists (made by someone else) is an error, never reused.
    mkdirSync(dir, { mode: 0o755 });
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
    writePrivateFile(join(dir, 'history.jsonl'), '', 0o644);
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
