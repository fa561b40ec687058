/**
 * What people ask of a run history, per scenario and lab configuration: the pass rate over the
 * last runs, the last good run and the first failure after it (the start of the current failing
 * streak), whether it is flaky, and the outage's percentiles. Pure functions of recorded runs.
 */

/** One run as the history records it. */
export interface RecordedRun {
  runId: string;
  scenario: string;
  /** The lab configuration or target (`lab`, `variants`, `containers`, a target's name). */
  config: string;
  harnessVersion: string;
  startedAt: string;
  valid: true | false | 'unknown';
  /** The client-visible outage, seconds; absent when unmeasured. */
  outageSeconds?: number;
}

export interface ScenarioTrend {
  scenario: string;
  config: string;
  runs: number;
  /** Passed / judged over the last `window` runs (unknown verdicts count as not passed). */
  passRate: number;
  window: number;
  lastGood?: RecordedRun;
  /** The first failure after the last good run: where the current failing streak began. Absent while the newest run passes. */
  firstFailed?: RecordedRun;
  /** Both verdicts on one harness version and configuration: the versions where that happened. */
  flakyOn: string[];
  outageP50?: number;
  outageP95?: number;
}

/** The p-th percentile (0-100) of `values` by nearest rank; undefined for none. Pure. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** One trend per scenario x configuration, newest runs last in each. Pure. */
export function trends(runs: readonly RecordedRun[], window = 20): ScenarioTrend[] {
  const groups = new Map<string, RecordedRun[]>();
  for (const r of runs) {
    const key = `${r.scenario}\u0000${r.config}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()]
    .map((group) => {
      const sorted = [...group].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
      const recent = sorted.slice(-window);
      const lastGoodIndex = sorted.map((r) => r.valid === true).lastIndexOf(true);
      const firstFailed = sorted.slice(lastGoodIndex + 1).find((r) => r.valid !== true);
      const byVersion = new Map<string, Set<string>>();
      for (const r of sorted) if (r.valid !== 'unknown') byVersion.set(r.harnessVersion, (byVersion.get(r.harnessVersion) ?? new Set()).add(String(r.valid)));
      const outages = recent.map((r) => r.outageSeconds).filter((o): o is number => o !== undefined && Number.isFinite(o));
      const first = sorted[0]!;
      return {
        scenario: first.scenario,
        config: first.config,
        runs: sorted.length,
        passRate: recent.filter((r) => r.valid === true).length / recent.length,
        window: recent.length,
        ...(lastGoodIndex >= 0 ? { lastGood: sorted[lastGoodIndex] } : {}),
        ...(firstFailed ? { firstFailed } : {}),
        flakyOn: [...byVersion].filter(([, verdicts]) => verdicts.size > 1).map(([version]) => version).sort(),
        ...(outages.length ? { outageP50: percentile(outages, 50), outageP95: percentile(outages, 95) } : {}),
      };
    })
    .sort((a, b) => a.scenario.localeCompare(b.scenario) || a.config.localeCompare(b.config));
}
