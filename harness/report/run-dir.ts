/**
 * Reading a recorded run directory back (for `report`, `replay` and `report --rejudge`). A run
 * directory may be damaged (a crash, a hand edit, a copy cut short), so each file is read as
 * hostile input: a regular file within its size limit, strict JSON, validated against its schema
 * (run.json: schemas/run.schema.json, results.json: results.schema.json, observations.json:
 * observations.schema.json). Every problem is a ValidationError naming the file, the line and
 * the field (exit code 2), never a bare SyntaxError, TypeError or ENOENT.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { INPUT_LIMITS } from '../core/input-file.ts';
import { readJsonFile, validateJson, type ParsedJson } from '../core/json-file.ts';
import { validate, ValidationError, withLines } from '../core/schema.ts';
import { parseLabConfig, type LabConfig } from '../cluster/lab-config.ts';
import type { Scenario } from '../scenario/scenario.ts';
import type { Observations } from '../check/observations.ts';
import { History } from '../history/history.ts';
import type { Operation } from '../history/operation.ts';
import type { RunResults } from './results.ts';

export type RunPhase = 'started' | 'history' | 'results' | 'crashed';

/** run.json: what a run is and how far it got. */
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

/** The files of a run directory. */
export const RUN_FILES = { manifest: 'run.json', results: 'results.json', observations: 'observations.json', history: 'history.jsonl' } as const;

/** True when `dir` is a directory holding `name` (as anything: reading it says what is wrong). */
export function hasRunFile(dir: string, name: string): boolean {
  try {
    statSync(join(dir, name));
    return true;
  } catch {
    return false;
  }
}

/** A validated run.json with what is needed to name the line of any field in it. */
export interface ParsedManifest {
  manifest: RunManifest;
  file: string;
  lineOf: ParsedJson['lineOf'];
}

/** run.json, validated: the seed an integer from 0 to 2^32-1, the phase known, the run id safe. */
export function readManifestWithLines(dir: string): ParsedManifest {
  const file = join(dir, RUN_FILES.manifest);
  const parsed = readJsonFile(file, { maxBytes: INPUT_LIMITS.manifest, what: 'run manifest' });
  return { manifest: validateJson<RunManifest>('run', parsed, file), file, lineOf: parsed.lineOf };
}

/** run.json, validated (see {@link readManifestWithLines}). */
export function readManifest(dir: string): RunManifest {
  return readManifestWithLines(dir).manifest;
}

/** The scenario recorded in run.json, validated; problems are named `line N: /scenario/...`. `why` says what it is needed for. */
export function recordedScenario(parsed: ParsedManifest, why: string): Scenario {
  const value = requireField(parsed.manifest.scenario, parsed.file, 'scenario', why);
  try {
    return validate<Scenario>('scenario', value, parsed.file, '/scenario');
  } catch (error) {
    throw error instanceof ValidationError ? withLines(error, parsed.lineOf) : error;
  }
}

/** The lab config recorded in run.json, validated; problems are named `line N: /lab/...`. */
export function recordedLab(parsed: ParsedManifest, why: string): LabConfig {
  return parseLabConfig(requireField(parsed.manifest.lab, parsed.file, 'lab', why), parsed.file, parsed.lineOf, '/lab');
}

/** results.json, validated against the results schema (every check with a verdict and a summary). */
export function readResults(dir: string): RunResults {
  const file = join(dir, RUN_FILES.results);
  return validateJson<RunResults>('results', readJsonFile(file, { maxBytes: INPUT_LIMITS.results, what: 'results file' }), file);
}

/** observations.json, validated: what the checkers judge is typed strictly (a convergence.ok of "yes" is refused). */
export function readObservations(dir: string): Observations {
  const file = join(dir, RUN_FILES.observations);
  const parsed = readJsonFile(file, { maxBytes: INPUT_LIMITS.observations, what: 'observations file' });
  return validateJson<Observations>('observations', { ...parsed, value: renameLegacyFields(parsed.value) }, file);
}

/** Observation fields of runs written before 2026-12-06 (issue 21), read under today's names: a replay of an older run judges the same. */
const LEGACY_OBSERVATION_FIELDS: Record<string, string> = { bmcPower: 'powerLog', promotions: 'takeovers' };

function renameLegacyFields(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const renamed: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = Object.hasOwn(LEGACY_OBSERVATION_FIELDS, key) && !Object.hasOwn(value, LEGACY_OBSERVATION_FIELDS[key]!) ? LEGACY_OBSERVATION_FIELDS[key]! : key;
    renamed[name] = v;
  }
  return renamed;
}

/** history.jsonl, each line checked and every invocation paired with at most one completion. */
export function readHistory(dir: string): Operation[] {
  return History.load(join(dir, RUN_FILES.history));
}

/** A field of a validated file that must hold something of its own (e.g. run.json's scenario). */
export function requireField<T>(value: T | undefined, file: string, field: string, why: string): T {
  if (value === undefined || value === null) throw new ValidationError(file, [`${field}: is required but missing (${why})`], [`/${field}`]);
  return value;
}
