/**
 * The run history: every run recorded as it finishes, in an embedded SQLite database
 * (`reports/history.db` by default), for trends across nights and hosts. SQLite through sql.js
 * (WebAssembly, no native build: this host reaches only the npm registry, and better-sqlite3 would
 * need to compile against Node's headers). The database is read whole and written back whole,
 * atomically (a temporary file renamed over it): a crash leaves the old one.
 */
import { constants, closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import initSqlJs, { type Database } from 'sql.js';
import { writePrivateFile } from '../core/host-files.ts';
import type { RecordedRun } from './trend.ts';

/** A run as the history keeps it: the trend's fields and what a person looks up next. */
export interface HistoryRow extends RecordedRun {
  seed: number;
  /** Each check's verdict, by name. */
  checks: Record<string, RecordedRun['valid']>;
  /** Each phase, seconds after the fault. */
  phases: Record<string, number>;
  /** Each protocol's outage, seconds (null: never back). */
  protocols: Record<string, number | null>;
  /** Where the run's directory was when recorded. */
  dir: string;
  /** The host's speed (sha256 MB/s on one core), when measured. */
  hostSpeed?: number;
  /** Why the host was called overloaded during the run; empty when it was not. */
  overload: string[];
  /** The run's wall time, start to verdict, seconds (what a shard assignment balances). */
  durationSeconds?: number;
}

const SCHEMA = `create table if not exists runs (
  run_id text primary key,
  scenario text not null,
  config text not null,
  harness_version text not null,
  started_at text not null,
  valid text not null,
  outage_seconds real,
  seed integer not null,
  checks text not null,
  phases text not null,
  protocols text not null,
  dir text not null,
  variant text not null,
  cluster_versions text not null,
  host_speed real,
  overload text not null,
  duration_seconds real
);
create index if not exists runs_by_scenario on runs (scenario, config, started_at);`;

const sqlWasm = createRequire(import.meta.url).resolve('sql.js/dist/sql-wasm.wasm');

/** The largest history read back (10,000 runs are ~5 MB). */
const MAX_BYTES = 512 * 1024 * 1024;

export class RunHistory {
  private constructor(
    private readonly db: Database,
    readonly file: string,
  ) {}

  /** Opens (or starts) the history in `file`: a regular file of this user's, never through a symbolic link. */
  static async open(file: string): Promise<RunHistory> {
    const SQL = await initSqlJs({ locateFile: () => sqlWasm });
    let bytes: Uint8Array | undefined;
    if (existsSync(file)) {
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const stats = fstatSync(fd);
        if (!stats.isFile()) throw new Error(`${file} is not a regular file`);
        if (stats.size > MAX_BYTES) throw new Error(`${file} is ${stats.size} bytes, over the ${MAX_BYTES} a history may be`);
        bytes = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const db = new SQL.Database(bytes);
    db.run(SCHEMA);
    return new RunHistory(db, file);
  }

  /** Records runs (a run recorded again replaces its row); one transaction. */
  record(rows: readonly HistoryRow[]): void {
    const insert = this.db.prepare('insert or replace into runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.db.run('begin');
    try {
      for (const r of rows) {
        insert.run([r.runId, r.scenario, r.config, r.harnessVersion, r.startedAt, String(r.valid), r.outageSeconds ?? null, r.seed, JSON.stringify(r.checks), JSON.stringify(r.phases), JSON.stringify(r.protocols), r.dir, r.variant, JSON.stringify(r.clusterVersions), r.hostSpeed ?? null, JSON.stringify(r.overload), r.durationSeconds ?? null]);
      }
      this.db.run('commit');
    } catch (error) {
      this.db.run('rollback');
      throw error;
    } finally {
      insert.free();
    }
  }

  /** Every run, oldest first (optionally of one scenario). */
  runs(scenario?: string): HistoryRow[] {
    const statement = this.db.prepare(`select * from runs ${scenario === undefined ? '' : 'where scenario = ?'} order by started_at, run_id`);
    if (scenario !== undefined) statement.bind([scenario]);
    const rows: HistoryRow[] = [];
    while (statement.step()) {
      const o = statement.getAsObject() as Record<string, string | number | null>;
      const valid = o.valid === 'true' ? true : o.valid === 'false' ? false : 'unknown';
      rows.push({
        runId: String(o.run_id),
        scenario: String(o.scenario),
        config: String(o.config),
        harnessVersion: String(o.harness_version),
        startedAt: String(o.started_at),
        valid,
        ...(o.outage_seconds === null ? {} : { outageSeconds: Number(o.outage_seconds) }),
        seed: Number(o.seed),
        checks: JSON.parse(String(o.checks)) as HistoryRow['checks'],
        phases: JSON.parse(String(o.phases)) as HistoryRow['phases'],
        protocols: JSON.parse(String(o.protocols)) as HistoryRow['protocols'],
        dir: String(o.dir),
        variant: String(o.variant),
        clusterVersions: JSON.parse(String(o.cluster_versions)) as HistoryRow['clusterVersions'],
        ...(o.host_speed === null ? {} : { hostSpeed: Number(o.host_speed) }),
        overload: JSON.parse(String(o.overload)) as string[],
        ...(o.duration_seconds === null ? {} : { durationSeconds: Number(o.duration_seconds) }),
      });
    }
    statement.free();
    return rows;
  }

  /**
   * Each scenario's typical wall time on one configuration: the median of its last `last` runs
   * there (what `certify --shard` balances by). Scenarios never run there are absent.
   */
  durations(config: string, last = 5): Record<string, number> {
    const byScenario = new Map<string, number[]>();
    for (const r of this.runs()) {
      if (r.config !== config || r.durationSeconds === undefined) continue;
      byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r.durationSeconds].slice(-last));
    }
    return Object.fromEntries([...byScenario].map(([scenario, d]) => [scenario, [...d].sort((a, b) => a - b)[Math.floor((d.length - 1) / 2)]!]));
  }

  /** Writes the database back, atomically. */
  save(): void {
    const temporary = join(dirname(this.file), `.history.db.${process.pid}.tmp`);
    writePrivateFile(temporary, Buffer.from(this.db.export()), 0o644);
    renameSync(temporary, this.file);
  }

  close(): void {
    this.db.close();
  }
}

/** The string values of a recorded object (a run's files are not trusted to hold only strings). */
function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** A run directory's results as a history row. `manifest`: its run.json (which lab or target). Pure. */
export function historyRowOf(dir: string, results: import('./results.ts').RunResults, manifest: Record<string, unknown>): HistoryRow {
  const env = (results.environment ?? {}) as Record<string, unknown>;
  const metrics = (results.metrics ?? {}) as Record<string, unknown>;
  const named = (v: unknown) => (typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' ? (v as { name: string }).name : undefined);
  const config = named(manifest.lab) ?? named(manifest.target) ?? (typeof env.lab === 'string' ? env.lab : undefined) ?? 'unknown';
  const outage = typeof metrics.outageSeconds === 'number' ? metrics.outageSeconds : undefined;
  const host = (typeof env.host === 'object' && env.host !== null ? env.host : {}) as Record<string, unknown>;
  const duration = Date.parse(results.finishedAt) - Date.parse(results.startedAt);
  const protocols = (results.checks['failover-time']?.details as { protocols?: Record<string, number | null> } | undefined)?.protocols ?? {};
  return {
    runId: results.runId,
    scenario: results.name,
    config,
    harnessVersion: typeof env.harnessVersion === 'string' ? env.harnessVersion : 'unknown',
    startedAt: results.startedAt,
    valid: results.valid,
    ...(outage === undefined ? {} : { outageSeconds: outage }),
    seed: results.seed,
    checks: Object.fromEntries(Object.entries(results.checks).map(([name, c]) => [name, c.valid])),
    phases: (metrics.phasesSecondsAfterFault ?? {}) as Record<string, number>,
    protocols,
    dir,
    variant: typeof env.variant === 'string' ? env.variant : 'unknown',
    clusterVersions: stringRecord(env.clusterVersions),
    ...(typeof host.sha256MBps === 'number' ? { hostSpeed: host.sha256MBps } : {}),
    overload: Array.isArray(env.overload) ? env.overload.filter((o): o is string => typeof o === 'string') : [],
    ...(Number.isFinite(duration) && duration >= 0 ? { durationSeconds: Math.round(duration) / 1000 } : {}),
  };
}
