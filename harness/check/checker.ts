/**
 * Checkers: pure functions of (scenario, history, observations) that return a verdict. A verdict
 * is `true` (valid), `false` (a violation was found) or `'unknown'` (the evidence cannot decide).
 * `compose` runs several; the worst verdict wins (`true` < `'unknown'` < `false`), and a checker
 * that throws yields `'unknown'`: a crash is never a pass.
 */
import type { Operation } from '../history/operation.ts';

export type Verdict = true | false | 'unknown';

/** What a checker concluded, and the evidence a person needs to see why. */
export interface CheckResult {
  valid: Verdict;
  /** One line a person reads first. */
  summary: string;
  /** Checker-specific evidence (numbers, offending operations). Must be JSON-serialisable. */
  details?: Record<string, unknown>;
  /** What a verdict other than `true` rests on, in words (the checker's {@link Checker.evidence}). */
  evidence?: string;
  /** For composed results: each checker's own result. */
  results?: Record<string, CheckResult>;
}

/** What every checker gets. Observations are scenario-specific facts gathered outside the history. */
export interface CheckInput<S = unknown, O = unknown> {
  scenario: S;
  history: readonly Operation[];
  observations: O;
}

/** A named pure check. */
export interface Checker<S = unknown, O = unknown> {
  readonly name: string;
  /** What its verdicts rest on, in words: said next to every FAILED or UNKNOWN. */
  readonly evidence?: string;
  check(input: CheckInput<S, O>): CheckResult;
}

const severity: Record<string, number> = { true: 0, unknown: 1, false: 2 };

/** The worse of two verdicts. */
export function worse(a: Verdict, b: Verdict): Verdict {
  return severity[String(a)]! >= severity[String(b)]! ? a : b;
}

/** Runs one checker, turning a throw into an `'unknown'` verdict that carries the error. */
export function runChecker<S, O>(checker: Checker<S, O>, input: CheckInput<S, O>): CheckResult {
  try {
    const result = checker.check(input);
    if (result.valid !== true && result.valid !== false && result.valid !== 'unknown') {
      return { valid: 'unknown', summary: `checker ${checker.name} returned an invalid verdict: ${String(result.valid)}`, evidence: 'the checker itself (a defect: it returned no verdict)' };
    }
    return result.valid !== true && checker.evidence && !result.evidence ? { ...result, evidence: checker.evidence } : result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { valid: 'unknown', summary: `checker ${checker.name} crashed: ${message}`, details: { error: message }, evidence: 'none: the checker crashed before it could judge (a defect of the harness, never a pass)' };
  }
}

/** Combines checkers into one; its verdict is the worst of theirs. */
export function compose<S, O>(name: string, checkers: readonly Checker<S, O>[]): Checker<S, O> {
  const names = new Set<string>();
  for (const c of checkers) {
    if (names.has(c.name)) throw new Error(`compose ${name}: two checkers are named ${c.name}`);
    names.add(c.name);
  }
  return {
    name,
    check(input) {
      const results: Record<string, CheckResult> = {};
      let valid: Verdict = true;
      for (const checker of checkers) {
        const result = runChecker(checker, input);
        results[checker.name] = result;
        valid = worse(valid, result.valid);
      }
      const bad = Object.entries(results).filter(([, r]) => r.valid !== true);
      const summary =
        checkers.length === 0
          ? 'no checkers: nothing was verified'
          : bad.length === 0
            ? `all ${checkers.length} checks passed`
            : bad.map(([n, r]) => `${n}: ${r.valid === false ? 'FAILED' : 'UNKNOWN'} (${r.summary})`).join('; ');
      // An empty composition proves nothing: that is unknown, not a pass.
      return { valid: checkers.length === 0 ? 'unknown' : valid, summary, results };
    },
  };
}
