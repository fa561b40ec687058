/**
 * The run's timeline as one self-contained HTML page a person reads in seconds: the verdict,
 * then client operations over time (one row per client, green ok, red fail, orange unknown),
 * one lane per node showing what it held (DRBD role, the virtual IP, off, unknown), the fault
 * and every failover phase as vertical markers, and each check's summary.
 */
import type { Operation } from '../history/operation.ts';
import { pairOperations, outcome } from '../history/operation.ts';
import type { RunResults } from './results.ts';
import { nodePowerLosses, type PowerLogEvent, type NodeSample, type Observations } from '../check/observations.ts';
import { xmlEscape as esc } from './junit.ts';

export interface TimelineInput {
  results: RunResults;
  history: readonly Operation[];
  /** Named moments (host clock ms): the fault, the failover phases, the heal. */
  markers: Record<string, number>;
  /** The watcher's state reports and the BMCs' power actions, for the node lanes. */
  samples?: readonly NodeSample[];
  powerLog?: readonly PowerLogEvent[];
  /** Each node's power supplies (see Observations.powerSupplies). */
  powerSupplies?: Record<string, string[]>;
  /** The supplies' power when the run began (see Observations.powerAtStart). */
  powerAtStart?: Observations['powerAtStart'];
  /** Guest and host load reports, plotted under the lanes. */
  load?: Observations['load'];
}

/**
 * The phases every architecture has, in the order they happen: a tie in time is broken by it.
 * A seam's own phase (the store's takeover, the mail service's starts) sorts by its time, and
 * in a tie before the service answers.
 */
const COMMON_PHASES = ['detected', 'fence-requested', 'fence-confirmed', 'fs-mounted', 'ip-up', 'service-answering'];
const phaseRank = (phase: string) => (COMMON_PHASES.includes(phase) ? COMMON_PHASES.indexOf(phase) : COMMON_PHASES.indexOf('service-answering') - 0.5);

/** Each phase's moment after the fault and how long it took since the one before. Pure. */
export function phaseDurations(phasesAfterFault: Record<string, number>): { phase: string; at: number; took: number }[] {
  const known = Object.entries(phasesAfterFault)
    .filter(([, at]) => Number.isFinite(at))
    .sort((a, b) => a[1] - b[1] || phaseRank(a[0]) - phaseRank(b[0]));
  return known.map(([phase, at], i) => ({ phase, at, took: Number((at - (i ? known[i - 1]![1] : 0)).toFixed(2)) }));
}

const STATE_COLORS: Record<string, string> = {
  'Primary + IP': '#0d47a1',
  Primary: '#1e88e5',
  Secondary: '#90a4ae',
  off: '#212121',
  unknown: '#eeeeee',
};

/** Each node's held state as segments [from, to) with a label, from samples and BMC power-offs. */
export function nodeSegments(samples: readonly NodeSample[], powerLog: readonly PowerLogEvent[], end: number, start = -Infinity, powerSupplies?: Record<string, string[]>, powerAtStart?: Observations['powerAtStart']): Record<string, { from: number; to: number; state: string }[]> {
  const losses = [...new Set(powerLog.map((e) => e.node))].flatMap((node) => nodePowerLosses({ powerLog: [...powerLog], powerSupplies, powerAtStart }, node).map((time) => ({ time, node, state: 'off' })));
  const changes = [
    ...samples.map((s) => ({ time: s.time, node: s.node, state: !s.reachable ? 'unknown' : s.storeMounted !== undefined ? `${s.storeMounted ? 'store mounted' : 'not mounted'}${s.holdsVip ? ' + IP' : ''}` : s.drbdRole === 'Primary' ? (s.holdsVip ? 'Primary + IP' : 'Primary') : s.holdsVip ? `${s.drbdRole ?? '?'} + IP` : (s.drbdRole ?? 'unknown') })),
    ...losses,
  ].sort((a, b) => a.time - b.time);
  const starts: Record<string, { from: number; state: string }[]> = {};
  for (const c of changes) {
    const lane = (starts[c.node] ??= []);
    if (lane.at(-1)?.state !== c.state) lane.push({ from: c.time, state: c.state });
  }
  // Each state lasts until the next; clipped to the plotted window, so a state reported before it
  // (the watcher's first snapshot) holds from its start.
  return Object.fromEntries(
    Object.entries(starts).map(([node, lane]) => [
      node,
      lane
        .map((seg, i) => ({ from: seg.from, to: lane[i + 1]?.from ?? end, state: seg.state }))
        .filter((seg) => seg.to > start && seg.from < end)
        .map((seg) => ({ ...seg, from: Math.max(seg.from, start), to: Math.min(seg.to, end) })),
    ]),
  );
}

/** Seconds relative to the fault, with their sign. */
const signed = (seconds: number) => `${seconds >= 0 ? '+' : ''}${seconds.toFixed(2)}`;

const COLORS = { ok: '#2e7d32', fail: '#c62828', info: '#ef6c00' } as const;

/** The ids of the messages mail-integrity found lost, with the views (imap, pop3) that missed each. Pure. */
export function lostMessageIds(results: Pick<RunResults, 'checks'>): Map<number, string[]> {
  const protocols = ((results.checks['mail-integrity']?.details as { protocols?: Record<string, { lost?: unknown }> } | undefined)?.protocols ?? {}) as Record<string, { lost?: unknown }>;
  const lost = new Map<number, string[]>();
  for (const [protocol, view] of Object.entries(protocols)) {
    for (const id of Array.isArray(view.lost) ? view.lost : []) if (typeof id === 'number') lost.set(id, [...(lost.get(id) ?? []), protocol]);
  }
  return lost;
}

export function renderTimeline({ results, history, markers, samples = [], powerLog = [], powerSupplies, powerAtStart, load }: TimelineInput): string {
  const pairs = pairOperations(history).filter((p) => p.invoke.f === 'send' || p.invoke.f === 'probe');
  const times = [...pairs.map((p) => p.invoke.time), ...Object.values(markers)];
  const t0 = Math.min(...times);
  const t1 = Math.max(...pairs.map((p) => p.completion?.time ?? p.invoke.time), ...Object.values(markers));
  const span = Math.max(1, t1 - t0);
  const width = 1100;
  const left = 110;
  const x = (t: number) => left + ((t - t0) / span) * (width - left - 20);
  const clients = [...new Set(pairs.map((p) => p.invoke.process))].sort();
  const lanes = nodeSegments(samples, powerLog, t1, t0, powerSupplies, powerAtStart);
  const nodes = Object.keys(lanes).sort();
  const rows = [...clients, ...nodes];
  const rowH = 28;
  const top = 30;
  // The load plot: each guest's and the host's 1-minute load average, under the lanes.
  const loadTop = top + rows.length * rowH + 24 + Object.keys(markers).length * 14;
  const loadH = load && (load.guests.length || load.host.length) ? 90 : 0;
  const height = loadTop + loadH + (loadH ? 20 : 0);
  const series: { name: string; color: string; points: { time: number; load1: number }[] }[] = load
    ? [
        ...[...new Set(load.guests.map((g) => g.node))].sort().map((node, i) => ({ name: `${node} load`, color: ['#6a1b9a', '#00838f', '#558b2f'][i % 3]!, points: load.guests.filter((g) => g.node === node) })),
        { name: 'host load', color: '#757575', points: load.host },
      ]
    : [];
  const maxLoad = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.load1)));
  const ly = (v: number) => loadTop + loadH - (v / maxLoad) * (loadH - 10);
  const loadPlot = loadH
    ? [
        `<text x="4" y="${loadTop + 12}" font-size="12">load (1 min)</text>`,
        `<text x="4" y="${loadTop + 26}" font-size="10">max ${maxLoad.toFixed(1)}</text>`,
        `<line x1="${left}" x2="${width - 20}" y1="${ly(0)}" y2="${ly(0)}" stroke="#ccc"/>`,
        ...series.map((s, i) => {
          const pts = s.points.filter((p) => p.time >= t0 && p.time <= t1).map((p) => `${x(p.time).toFixed(1)},${ly(p.load1).toFixed(1)}`);
          return `${pts.length ? `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"><title>${esc(s.name)}</title></polyline>` : ''}<text x="${width - 20 - i * 110}" y="${loadTop + loadH + 16}" font-size="10" fill="${s.color}" text-anchor="end">${esc(s.name)}</text>`;
        }),
      ].join('\n')
    : '';
  const bands = nodes
    .flatMap((node) =>
      lanes[node]!.map((seg) => {
        const y = top + rows.indexOf(node) * rowH + 4;
        const color = STATE_COLORS[seg.state] ?? '#b0bec5';
        return `<rect x="${x(seg.from).toFixed(1)}" y="${y}" width="${Math.max(1, x(seg.to) - x(seg.from)).toFixed(1)}" height="${rowH - 8}" fill="${color}" stroke="#fff" stroke-width="0.5"><title>${esc(`${node}: ${seg.state} from ${signed((seg.from - (markers.fault ?? t0)) / 1000)} s for ${((seg.to - seg.from) / 1000).toFixed(2)} s`)}</title></rect>`;
      }),
    )
    .join('\n');
  const dots = pairs
    .map((p) => {
      const y = top + rows.indexOf(p.invoke.process) * rowH + rowH / 2;
      const end = p.completion?.time ?? p.invoke.time;
      const o = outcome(p);
      return `<line x1="${x(p.invoke.time).toFixed(1)}" x2="${Math.max(x(end), x(p.invoke.time) + 1.5).toFixed(1)}" y1="${y}" y2="${y}" stroke="${COLORS[o]}" stroke-width="10"><title>${esc(`${p.invoke.process} ${p.invoke.f} ${o} at ${signed((p.invoke.time - (markers.fault ?? t0)) / 1000)} s ${p.completion?.error ?? ''}`)}</title></line>`;
    })
    .join('\n');
  // Each lost message (acknowledged with 250, never read back) marked on its sender's lane at the moment of its 250.
  const lostIds = lostMessageIds(results);
  const lostMarks = pairs
    .filter((p) => p.invoke.f === 'send' && p.completion?.type === 'ok' && lostIds.has((p.invoke.value as { id?: number } | undefined)?.id ?? -1))
    .map((p) => {
      const y = top + rows.indexOf(p.invoke.process) * rowH + rowH / 2;
      const at = p.completion!.time;
      const id = (p.invoke.value as { id: number }).id;
      return `<g><circle cx="${x(at).toFixed(1)}" cy="${y}" r="7" fill="none" stroke="#000" stroke-width="2.5"/><text x="${x(at).toFixed(1)}" y="${y - 9}" font-size="10" text-anchor="middle">lost</text><title>${esc(`message ${id}: acknowledged with 250 at ${signed((at - (markers.fault ?? t0)) / 1000)} s by ${p.invoke.process}, never read back (${lostIds.get(id)!.join(', ')})`)}</title></g>`;
    })
    .join('\n');
  const labels = rows.map((r, i) => `<text x="4" y="${top + i * rowH + rowH / 2 + 4}" font-size="12">${esc(r)}</text>`).join('\n');
  const marks = Object.entries(markers)
    .sort((a, b) => a[1] - b[1])
    .map(([name, t], i) => {
      const mx = x(t).toFixed(1);
      const ly = top + rows.length * rowH + 14 + i * 14;
      const anchor = x(t) > width - 160 ? ' text-anchor="end"' : '';
      return `<line x1="${mx}" x2="${mx}" y1="${top - 6}" y2="${ly - 10}" stroke="#555" stroke-dasharray="3,3"/><text x="${mx}" y="${ly}" font-size="11"${anchor}>${esc(name)} ${signed((t - (markers.fault ?? t0)) / 1000).replace(/(\.\d)\d$/, '$1')} s</text>`;
    })
    .join('\n');
  // One zero on the page: the fault (ticks, markers and tooltips all count from it).
  const zero = markers.fault ?? t0;
  const ticks = Array.from({ length: 11 }, (_, i) => t0 + (span * i) / 10)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="16" font-size="10" text-anchor="middle">${signed((t - zero) / 1000).replace(/\.\d+$/, '')} s</text>`)
    .join('');
  const byProtocol = (results.metrics?.outageByProtocolSeconds ?? {}) as Record<string, number | null>;
  const outageTable = Object.keys(byProtocol).length
    ? `<h2>Outage by protocol</h2><table><tr><th>client</th><th>outage (s)</th></tr>${Object.entries(byProtocol)
        .map(([name, v]) => `<tr><td>${esc(name === 'smtp' ? 'SMTP (probe)' : name === 'imap' ? 'IMAP (probe)' : 'SMTP sends')}</td><td>${v === null ? 'not back' : v.toFixed(1)}</td></tr>`)
        .join('')}</table>`
    : '';
  const phases = phaseDurations((results.metrics?.phasesSecondsAfterFault ?? {}) as Record<string, number>);
  const phaseTable = phases.length
    ? `<h2>Where the time went</h2><table><tr><th>phase</th><th>at (s after the fault)</th><th>took (s, since the previous)</th></tr>${phases.map((p) => `<tr><td>${esc(p.phase)}</td><td>${p.at.toFixed(1)}</td><td>${p.took.toFixed(1)}</td></tr>`).join('')}</table>`
    : '';
  const env = (results.environment ?? {}) as { host?: { cores?: number; sha256MBps?: number; peakLoad1?: number }; accel?: string; vcpus?: number; slo?: { basis?: string }; overload?: string[]; architecture?: { storage: string; power: Record<string, string> } };
  const arch = env.architecture ? `<tr><td>architecture</td><td>store ${esc(env.architecture.storage)}; ${esc(Object.entries(env.architecture.power).map(([n, d]) => `${n}: ${d}`).join('; '))}</td></tr>` : '';
  const hostTable = env.host
    ? `<h2>Host</h2><table><tr><td>acceleration</td><td>${esc(String(env.accel ?? '?'))}, ${env.vcpus ?? '?'} vCPU per node</td></tr><tr><td>host</td><td>${env.host.cores ?? '?'} cores, speed ${env.host.sha256MBps ?? '?'} MB/s (sha256, one core), peak load ${env.host.peakLoad1?.toFixed(2) ?? '?'}</td></tr><tr><td>SLO applied</td><td>${esc(env.slo?.basis ?? '?')}</td></tr>${arch}${env.overload?.length ? `<tr><td style="color:${COLORS.fail}">overloaded</td><td>${esc(env.overload.join('; '))}</td></tr>` : ''}</table>`
    : '';
  const verdictColor = results.valid === true ? COLORS.ok : results.valid === false ? COLORS.fail : COLORS.info;
  const checks = Object.entries(results.checks)
    .map(([name, r]) => `<tr><td>${esc(name)}</td><td style="color:${r.valid === true ? COLORS.ok : r.valid === false ? COLORS.fail : COLORS.info}"><b>${esc(String(r.valid))}</b></td><td>${esc(r.summary)}${r.valid !== true && r.evidence ? `<br><small>evidence: ${esc(r.evidence)}</small>` : ''}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(results.name)} ${esc(results.runId)}</title>
<style>body{font-family:sans-serif;margin:20px}td{padding:3px 10px;vertical-align:top}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style></head>
<body>
<h1 style="color:${verdictColor}">${esc(results.name)}: ${results.valid === true ? 'PASS' : results.valid === false ? 'FAIL' : 'UNKNOWN'}</h1>
<p>${esc(results.summary)}</p>
<p>run ${esc(results.runId)} · seed ${results.seed} · ${esc(results.startedAt)} → ${esc(results.finishedAt)}</p>
<h2>Client operations through the virtual IP</h2>
<p><span style="color:${COLORS.ok}">■ ok</span> <span style="color:${COLORS.fail}">■ failed</span> <span style="color:${COLORS.info}">■ unknown outcome</span>; dashed lines: the fault and the failover phases. All times in seconds from the fault.</p>
<p>Node lanes: ${Object.entries(STATE_COLORS)
    .map(([name, color]) => `<span style="color:${color === '#eeeeee' ? '#999' : color}">■ ${esc(name)}</span>`)
    .join(' ')} (the watcher's reports and the BMCs' power-offs).</p>
<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">${ticks}${labels}${dots}${bands}${marks}${lostMarks}${loadPlot}</svg>${lostIds.size ? `<p><b>○ lost</b>: ${lostIds.size} acknowledged message(s) never read back, marked where the 250 came.</p>` : ''}
${outageTable}
${phaseTable}
${hostTable}
<h2>Checks</h2>
<table>${checks}</table>
</body></html>
`;
}
