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

/** A run with its phases, for the page's stacked bars. */
export interface ChartRun extends RecordedRun {
  phases: Record<string, number>;
  /** A link to the run's timeline, relative to the page. */
  href?: string;
}

const PHASE_COLOURS = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#c62828', '#5d4037', '#9e9d24', '#ad1457', '#455a64'];

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * One scenario x configuration as an SVG: a stacked bar per run (each phase's share of the time to
 * service, seconds), failed runs marked, with axes, units and a legend. Pure.
 */
export function renderPhaseChart(runs: readonly ChartRun[], phaseOrder: readonly string[]): string {
  const width = 720;
  const height = 260;
  const left = 50;
  const bottom = 30;
  const top = 10;
  const plotHeight = height - top - bottom - 40;
  const phases = [...new Set([...phaseOrder.filter((p) => runs.some((r) => p in r.phases)), ...runs.flatMap((r) => Object.keys(r.phases))])];
  const totalOf = (r: ChartRun) => Math.max(r.outageSeconds ?? 0, ...Object.values(r.phases).filter((v) => Number.isFinite(v)), 0);
  const max = Math.max(1, ...runs.map(totalOf));
  const scale = (s: number) => (s / max) * plotHeight;
  const step = runs.length ? (width - left - 10) / runs.length : 0;
  const barWidth = Math.max(2, Math.min(24, step * 0.7));
  const bars = runs
    .map((r, i) => {
      const x = left + i * step + (step - barWidth) / 2;
      const ordered = phases.filter((p) => p in r.phases).map((p) => [p, r.phases[p]!] as const).sort((a, b) => a[1] - b[1]);
      let previous = 0;
      const segments = ordered
        .map(([phase, at]) => {
          const h = scale(Math.max(0, at - previous));
          const y = top + plotHeight - scale(at);
          previous = at;
          return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${PHASE_COLOURS[phases.indexOf(phase) % PHASE_COLOURS.length]}"><title>${esc(`${r.runId}: ${phase} at ${at} s`)}</title></rect>`;
        })
        .join('');
      const mark = r.valid === true ? '' : `<text x="${(x + barWidth / 2).toFixed(1)}" y="${(top + plotHeight + 14).toFixed(1)}" text-anchor="middle" fill="#b71c1c" font-size="11">${r.valid === false ? '✘' : '?'}</text>`;
      const link = r.href ? `<a href="${esc(r.href)}">${segments}</a>` : segments;
      return `<g data-run="${esc(r.runId)}" data-outage="${r.outageSeconds ?? ''}">${link}${mark}</g>`;
    })
    .join('\n');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const s = Math.round(max * f);
    const y = top + plotHeight - scale(s);
    return `<line x1="${left}" x2="${width - 10}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${s}</text>`;
  });
  const legend = phases.map((p, i) => `<rect x="${left + i * 110}" y="${height - 18}" width="10" height="10" fill="${PHASE_COLOURS[i % PHASE_COLOURS.length]}"/><text x="${left + i * 110 + 14}" y="${height - 9}" font-size="11">${esc(p)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="phases per run, seconds after the fault">
${ticks.join('\n')}
<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#333"/><line x1="${left}" x2="${width - 10}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333"/>
<text x="12" y="${top + plotHeight / 2}" transform="rotate(-90 12 ${top + plotHeight / 2})" text-anchor="middle" font-size="11">seconds after the fault</text>
<text x="${(left + width) / 2}" y="${top + plotHeight + 28}" text-anchor="middle" font-size="11">runs, oldest first (✘ failed, ? unknown)</text>
${bars}
${legend}
</svg>`;
}

/** The trend page: per scenario x configuration, its numbers and its chart. Pure. */
export function renderTrendPage(runs: readonly ChartRun[], phaseOrder: readonly string[], window = 20, generatedAt = new Date().toISOString()): string {
  const sections = trends(runs, window).map((tr) => {
    const mine = runs.filter((r) => r.scenario === tr.scenario && r.config === tr.config).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
    const linkTo = (r: RecordedRun | undefined) => {
      if (!r) return 'none';
      const href = (r as ChartRun).href;
      return href ? `<a href="${esc(href)}">${esc(r.runId)}</a>` : esc(r.runId);
    };
    const num = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} s`);
    return `<section data-scenario="${esc(tr.scenario)}" data-config="${esc(tr.config)}">
<h2>${esc(tr.scenario)} on ${esc(tr.config)}${tr.flakyOn.length ? ` <span class="flaky">flaky on ${esc(tr.flakyOn.join(', '))}</span>` : ''}</h2>
<table><tr><th>runs</th><th>pass rate (last ${tr.window})</th><th>outage p50</th><th>outage p95</th><th>last good</th><th>first failed since</th></tr>
<tr><td class="runs">${tr.runs}</td><td class="pass-rate">${(tr.passRate * 100).toFixed(0)}%</td><td class="p50">${num(tr.outageP50)}</td><td class="p95">${num(tr.outageP95)}</td><td>${linkTo(tr.lastGood)}</td><td>${linkTo(tr.firstFailed)}</td></tr></table>
${renderPhaseChart(mine, phaseOrder)}
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ha-chaos trend</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px}.flaky{color:#ef6c00;font-size:70%;border:1px solid #ef6c00;padding:1px 4px}</style></head>
<body><h1>ha-chaos trend: ${runs.length} run(s), ${sections.length} scenario x configuration</h1>
<p>Generated ${esc(generatedAt)}.</p>
${sections.join('\n')}
</body></html>
`;
}
