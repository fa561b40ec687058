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
  /** The architecture's variant: `drbd/ipmi/postfix-dovecot`. */
  variant: string;
  /** The cluster's own versions: kernel, pacemaker, corosync, drbd, the mail service's. */
  clusterVersions: Record<string, string>;
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

/** The runs a chart draws by default: the newest of each scenario x configuration (a year of nights stays a page a browser opens at once). */
export const CHART_RUNS = 60;

/** A run's cluster versions in one line, components in name order: `corosync 3.1.7, pacemaker 2.1.5`. Pure. */
export function versionsLine(versions: Readonly<Record<string, string>>): string {
  return Object.keys(versions).sort().map((k) => `${k} ${versions[k]}`).join(', ') || 'not recorded';
}

/**
 * The outage percentile over the `window` runs ending at each run (runs without a measured outage
 * carry the last value): the line that shows a failover getting slower. Pure.
 */
export function rollingPercentile(runs: readonly RecordedRun[], p: number, window: number): (number | undefined)[] {
  return runs.map((_, i) => percentile(runs.slice(Math.max(0, i + 1 - window), i + 1).map((r) => r.outageSeconds).filter((o): o is number => o !== undefined && Number.isFinite(o)), p));
}

/**
 * One scenario x configuration as an SVG: a stacked bar per run (each phase's share of the time to
 * service, seconds), failed runs marked, the outage p50 and p95 over the last `window` runs as
 * lines, with axes, units and a legend. `shownFrom`: how many older runs are left off the left. Pure.
 */
export function renderPhaseChart(runs: readonly ChartRun[], phaseOrder: readonly string[], window = 20, shownFrom = 0): string {
  const width = 760;
  const height = 290;
  const left = 50;
  const bottom = 30;
  const top = 10;
  const plotHeight = height - top - bottom - 60;
  const phases = [...new Set([...phaseOrder.filter((p) => runs.some((r) => p in r.phases)), ...runs.flatMap((r) => Object.keys(r.phases))])];
  const totalOf = (r: ChartRun) => Math.max(r.outageSeconds ?? 0, ...Object.values(r.phases).filter((v) => Number.isFinite(v)), 0);
  const max = Math.max(1, ...runs.map(totalOf));
  const scale = (s: number) => (s / max) * plotHeight;
  const step = runs.length ? (width - left - 10) / runs.length : 0;
  const barWidth = Math.max(2, Math.min(24, step * 0.7));
  const centre = (i: number) => left + i * step + step / 2;
  const bars = runs
    .map((r, i) => {
      const x = centre(i) - barWidth / 2;
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
      const mark = r.valid === true ? '' : `<text x="${centre(i).toFixed(1)}" y="${(top + plotHeight + 14).toFixed(1)}" text-anchor="middle" fill="#b71c1c" font-size="11">${r.valid === false ? '✘' : '?'}</text>`;
      const link = r.href ? `<a href="${esc(r.href)}">${segments}</a>` : segments;
      return `<g class="run" data-run="${esc(r.runId)}" data-outage="${r.outageSeconds ?? ''}" data-versions="${esc(versionsLine(r.clusterVersions))}">${link}${mark}</g>`;
    })
    .join('\n');
  const line = (values: (number | undefined)[], colour: string, name: string, dash: string) => {
    const points = values.flatMap((v, i) => (v === undefined ? [] : [`${centre(i).toFixed(1)},${(top + plotHeight - scale(v)).toFixed(1)}`]));
    return points.length ? `<polyline class="${name}" points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>` : '';
  };
  const lines = [line(rollingPercentile(runs, 50, window), '#000', 'p50', ''), line(rollingPercentile(runs, 95, window), '#b71c1c', 'p95', '5 3')].join('\n');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const s = Math.round(max * f);
    const y = top + plotHeight - scale(s);
    return `<line x1="${left}" x2="${width - 10}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#eee"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${s}</text>`;
  });
  const day = (r: ChartRun | undefined) => (r ? esc(r.startedAt.slice(0, 10)) : '');
  const dates = runs.length ? `<text x="${left}" y="${top + plotHeight + 28}" font-size="11">${day(runs[0])}</text><text x="${width - 10}" y="${top + plotHeight + 28}" text-anchor="end" font-size="11">${day(runs.at(-1))}</text>` : '';
  const legendItems = [
    ...phases.map((p, i) => `<rect width="10" height="10" y="-9" fill="${PHASE_COLOURS[i % PHASE_COLOURS.length]}"/><text x="14" font-size="11">${esc(p)}</text>`),
    `<line x1="0" x2="12" y1="-4" y2="-4" stroke="#000" stroke-width="2"/><text x="16" font-size="11">outage p50 (last ${window})</text>`,
    `<line x1="0" x2="12" y1="-4" y2="-4" stroke="#b71c1c" stroke-width="2" stroke-dasharray="5 3"/><text x="16" font-size="11">outage p95 (last ${window})</text>`,
  ];
  const perRow = 5;
  const legend = legendItems.map((item, i) => `<g transform="translate(${left + (i % perRow) * 140} ${height - 44 + Math.floor(i / perRow) * 16})">${item}</g>`).join('');
  const shown = shownFrom ? `the last ${runs.length} runs, oldest first (${shownFrom} older left off; ✘ failed, ? unknown)` : 'runs, oldest first (✘ failed, ? unknown)';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="phases per run, seconds after the fault">
${ticks.join('\n')}
<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotHeight}" stroke="#333"/><line x1="${left}" x2="${width - 10}" y1="${top + plotHeight}" y2="${top + plotHeight}" stroke="#333"/>
<text x="12" y="${top + plotHeight / 2}" transform="rotate(-90 12 ${top + plotHeight / 2})" text-anchor="middle" font-size="11">seconds after the fault</text>
<text x="${(left + width) / 2}" y="${top + plotHeight + 28}" text-anchor="middle" font-size="11">${shown}</text>
${dates}
${bars}
${lines}
${legend}
</svg>`;
}

/** Per set of cluster versions in a group: its runs, pass rate and outage p50, oldest first. Pure. */
export function byVersions(runs: readonly RecordedRun[]): { versions: string; runs: number; passRate: number; outageP50?: number; first: string; last: string }[] {
  const groups = new Map<string, RecordedRun[]>();
  for (const r of [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    const key = versionsLine(r.clusterVersions);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups].map(([versions, group]) => {
    const p50 = percentile(group.map((r) => r.outageSeconds).filter((o): o is number => o !== undefined && Number.isFinite(o)), 50);
    return { versions, runs: group.length, passRate: group.filter((r) => r.valid === true).length / group.length, ...(p50 === undefined ? {} : { outageP50: p50 }), first: group[0]!.startedAt, last: group.at(-1)!.startedAt };
  });
}

/** What the page was narrowed to on the command line (`trend --config`, `--cluster-version`), said on the page. */
export interface TrendFilter {
  config?: string;
  versions?: Record<string, string>;
}

/** Runs matching a filter: the configuration, and each named component at the named version. Pure. */
export function filterRuns<T extends RecordedRun>(runs: readonly T[], filter: TrendFilter): T[] {
  return runs.filter((r) => (filter.config === undefined || r.config === filter.config) && Object.entries(filter.versions ?? {}).every(([k, v]) => r.clusterVersions[k] === v));
}

/** The page's own filters (no network, no library): sections by configuration and variant, bars by cluster versions. */
const FILTER_SCRIPT = `
const pick = (id) => document.getElementById(id).value;
function applyFilters() {
  const config = pick('filter-config'), variant = pick('filter-variant'), versions = pick('filter-versions');
  for (const section of document.querySelectorAll('section[data-config]')) {
    let shown = 0;
    for (const bar of section.querySelectorAll('g.run')) {
      const on = !versions || bar.dataset.versions === versions;
      bar.style.display = on ? '' : 'none';
      if (on) shown++;
    }
    const keep = (!config || section.dataset.config === config) && (!variant || section.dataset.variant.split(' ').includes(variant)) && shown > 0;
    section.style.display = keep ? '' : 'none';
  }
  document.getElementById('shown').textContent = document.querySelectorAll('section[data-config]:not([style*="none"])').length;
}
for (const id of ['filter-config', 'filter-variant', 'filter-versions']) document.getElementById(id).addEventListener('change', applyFilters);
applyFilters();
`;

/** The trend page: per scenario x configuration, its numbers, its versions and its chart. Pure. */
export function renderTrendPage(runs: readonly ChartRun[], phaseOrder: readonly string[], window = 20, generatedAt = new Date().toISOString(), options: { chartRuns?: number; filter?: TrendFilter } = {}): string {
  const chartRuns = options.chartRuns ?? CHART_RUNS;
  const groups = new Map<string, ChartRun[]>();
  for (const r of runs) {
    const key = `${r.scenario}\u0000${r.config}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const sections = trends(runs, window).map((tr) => {
    const mine = (groups.get(`${tr.scenario}\u0000${tr.config}`) ?? []).sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
    const linkTo = (r: RecordedRun | undefined) => {
      if (!r) return 'none';
      const href = (r as ChartRun).href;
      return href ? `<a href="${esc(href)}">${esc(r.runId)}</a>` : esc(r.runId);
    };
    const num = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} s`);
    const variants = [...new Set(mine.map((r) => r.variant))].sort();
    const versionRows = byVersions(mine)
      .map((v) => `<tr><td class="versions">${esc(v.versions)}</td><td>${v.runs}</td><td>${(v.passRate * 100).toFixed(0)}%</td><td>${num(v.outageP50)}</td><td>${esc(v.first.slice(0, 10))} to ${esc(v.last.slice(0, 10))}</td></tr>`)
      .join('');
    return `<section data-scenario="${esc(tr.scenario)}" data-config="${esc(tr.config)}" data-variant="${esc(variants.join(' '))}">
<h2>${esc(tr.scenario)} on ${esc(tr.config)} <small>(${esc(variants.join(', '))})</small>${tr.flakyOn.length ? ` <span class="flaky">flaky on ${esc(tr.flakyOn.join(', '))}</span>` : ''}</h2>
<table><tr><th>runs</th><th>pass rate (last ${tr.window})</th><th>outage p50</th><th>outage p95</th><th>last good</th><th>first failed since</th></tr>
<tr><td class="runs">${tr.runs}</td><td class="pass-rate">${(tr.passRate * 100).toFixed(0)}%</td><td class="p50">${num(tr.outageP50)}</td><td class="p95">${num(tr.outageP95)}</td><td class="last-good">${linkTo(tr.lastGood)}</td><td class="first-failed">${linkTo(tr.firstFailed)}</td></tr></table>
<table class="by-versions"><tr><th>cluster versions</th><th>runs</th><th>passed</th><th>outage p50</th><th>when</th></tr>${versionRows}</table>
${renderPhaseChart(mine.slice(-chartRuns), phaseOrder, window, Math.max(0, mine.length - chartRuns))}
</section>`;
  });
  const options_ = (id: string, label: string, values: string[]) =>
    `<label>${label} <select id="${id}"><option value="">all</option>${[...new Set(values)].sort().map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('')}</select></label>`;
  const filter = options.filter ?? {};
  const narrowed = [filter.config ? `configuration ${filter.config}` : '', ...Object.entries(filter.versions ?? {}).map(([k, v]) => `${k} ${v}`)].filter(Boolean);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ha-chaos trend</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px}.flaky{color:#ef6c00;font-size:70%;border:1px solid #ef6c00;padding:1px 4px}.filters label{margin-right:1.5em}</style></head>
<body><h1>ha-chaos trend: ${runs.length} run(s), ${sections.length} scenario x configuration</h1>
<p>Generated ${esc(generatedAt)}.${narrowed.length ? ` Only runs with ${esc(narrowed.join(', '))}.` : ''} Pass rate and percentiles over the last ${window} runs of each; each chart shows at most the last ${chartRuns}.</p>
<p class="filters">${options_('filter-config', 'configuration', runs.map((r) => r.config))}${options_('filter-variant', 'variant', runs.map((r) => r.variant))}${options_('filter-versions', 'cluster versions', runs.map((r) => versionsLine(r.clusterVersions)))} <span id="shown">${sections.length}</span> shown</p>
${sections.join('\n')}
<script>${FILTER_SCRIPT}</script>
</body></html>
`;
}
