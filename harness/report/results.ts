/** The results document of one run (see schemas/results.schema.json). */
import type { CheckResult, Verdict } from '../check/checker.ts';

export interface RunResults {
  schemaVersion: 1;
  runId: string;
  name: string;
  seed: number;
  startedAt: string;
  finishedAt: string;
  valid: Verdict;
  summary: string;
  checks: Record<string, CheckResult>;
  /** When and where the fault hit (drawn from the seed). */
  schedule?: { fault: string; node: string; injectAfterSeconds: number; jitterSeconds: number };
  environment?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
}
