/**
 * Single primary: at no observed moment were both nodes DRBD Primary, or both holding the
 * virtual IP. Observations are the watcher's polls of both nodes (a pair of polls less than one
 * interval apart counts as one moment) and the promotions from the kernel logs.
 */
import type { Checker } from './checker.ts';
import type { NodeSample, Observations } from './observations.ts';

/** Two samples of different nodes this close (ms) are taken as the same moment. */
const SAME_MOMENT_MS = 1000;

export const singlePrimary: Checker<unknown, Observations> = {
  name: 'single-primary',
  check({ observations }) {
    const samples = [...observations.samples].filter((s) => s.reachable).sort((a, b) => a.time - b.time);
    if (samples.length === 0) return { valid: 'unknown', summary: 'no watcher samples', details: {} };
    const last = new Map<string, NodeSample>();
    const overlaps: { time: number; what: string }[] = [];
    for (const s of samples) {
      last.set(s.node, s);
      const others = [...last.values()].filter((o) => o.node !== s.node && s.time - o.time <= SAME_MOMENT_MS);
      for (const o of others) {
        if (s.drbdRole === 'Primary' && o.drbdRole === 'Primary') overlaps.push({ time: s.time, what: `both ${s.node} and ${o.node} DRBD Primary` });
        if (s.holdsVip && o.holdsVip) overlaps.push({ time: s.time, what: `both ${s.node} and ${o.node} hold the virtual IP` });
      }
    }
    const nodes = new Set(samples.map((s) => s.node)).size;
    return overlaps.length
      ? { valid: false, summary: `${overlaps[0]!.what} at ${new Date(overlaps[0]!.time).toISOString()}`, details: { overlaps: overlaps.slice(0, 20) } }
      : { valid: true, summary: `never two primaries or two IP holders in ${samples.length} samples of ${nodes} nodes`, details: { samples: samples.length } };
  },
};
