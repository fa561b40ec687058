/**
 * The run's timeline as one self-contained HTML page a person reads in seconds: the verdict,
 * then client operations over time (one row per client, green ok, red fail, orange unknown),
 * the fault and every failover phase as vertical markers, and each check's summary.
 */
import type { Operation } from '../history/operation.ts';
import { pairOperations, outcome } from '../history/operation.ts';
import type { RunResults } from './results.ts';
import { xmlEscape as esc } from './junit.ts';

export interface TimelineInput {
  results: RunResults;
  history: readonly Operation[];
  /** Named moments (host clock ms): the fault, the failover phases, the heal. */
  markers: Record<string, number>;
}

const COLORS = { ok: '#2e7d32', fail: '#c62828', info: '#ef6c00' } as const;

export function renderTimeline({ results, history, markers }: TimelineInput): string {
  const pairs = pairOperations(history).filter((p) => p.invoke.f === 'send' || p.invoke.f === 'probe');
  const times = [...pairs.map((p) => p.invoke.time), ...Object.values(markers)];
  const t0 = Math.min(...times);
  const t1 = Math.max(...pairs.map((p) => p.completion?.time ?? p.invoke.time), ...Object.values(markers));
  const span = Math.max(1, t1 - t0);
  const width = 1100;
  const left = 110;
  const x = (t: number) => left + ((t - t0) / span) * (width - left - 20);
  const rows = [...new Set(pairs.map((p) => p.invoke.process))].sort();
  const rowH = 28;
  const top = 30;
  const height = top + rows.length * rowH + 24 + Object.keys(markers).length * 14;
  const dots = pairs
    .map((p) => {
      const y = top + rows.indexOf(p.invoke.process) * rowH + rowH / 2;
      const end = p.completion?.time ?? p.invoke.time;
      const o = outcome(p);
      return `<line x1="${x(p.invoke.time).toFixed(1)}" x2="${Math.max(x(end), x(p.invoke.time) + 1.5).toFixed(1)}" y1="${y}" y2="${y}" stroke="${COLORS[o]}" stroke-width="10"><title>${esc(`${p.invoke.process} ${p.invoke.f} ${o} ${((p.invoke.time - t0) / 1000).toFixed(2)} s ${p.completion?.error ?? ''}`)}</title></line>`;
    })
    .join('\n');
  const labels = rows.map((r, i) => `<text x="4" y="${top + i * rowH + rowH / 2 + 4}" font-size="12">${esc(r)}</text>`).join('\n');
  const marks = Object.entries(markers)
    .sort((a, b) => a[1] - b[1])
    .map(([name, t], i) => {
      const mx = x(t).toFixed(1);
      const ly = top + rows.length * rowH + 14 + i * 14;
      return `<line x1="${mx}" x2="${mx}" y1="${top - 6}" y2="${ly - 10}" stroke="#555" stroke-dasharray="3,3"/><text x="${mx}" y="${ly}" font-size="11">${esc(name)} +${((t - (markers.fault ?? t0)) / 1000).toFixed(1)} s</text>`;
    })
    .join('\n');
  const ticks = Array.from({ length: 11 }, (_, i) => t0 + (span * i) / 10)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="16" font-size="10" text-anchor="middle">${((t - t0) / 1000).toFixed(0)} s</text>`)
    .join('');
  const verdictColor = results.valid === true ? COLORS.ok : results.valid === false ? COLORS.fail : COLORS.info;
  const checks = Object.entries(results.checks)
    .map(([name, r]) => `<tr><td>${esc(name)}</td><td style="color:${r.valid === true ? COLORS.ok : r.valid === false ? COLORS.fail : COLORS.info}"><b>${esc(String(r.valid))}</b></td><td>${esc(r.summary)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(results.name)} ${esc(results.runId)}</title>
<style>body{font-family:sans-serif;margin:20px}td{padding:3px 10px;vertical-align:top}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style></head>
<body>
<h1 style="color:${verdictColor}">${esc(results.name)}: ${results.valid === true ? 'PASS' : results.valid === false ? 'FAIL' : 'UNKNOWN'}</h1>
<p>${esc(results.summary)}</p>
<p>run ${esc(results.runId)} · seed ${results.seed} · ${esc(results.startedAt)} → ${esc(results.finishedAt)}</p>
<h2>Client operations through the virtual IP</h2>
<p><span style="color:${COLORS.ok}">■ ok</span> <span style="color:${COLORS.fail}">■ failed</span> <span style="color:${COLORS.info}">■ unknown outcome</span>; dashed lines: the fault and the failover phases (seconds after the fault).</p>
<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${ticks}${labels}${dots}${marks}</svg>
<h2>Checks</h2>
<table>${checks}</table>
</body></html>
`;
}
