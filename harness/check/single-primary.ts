/**
 * Single primary: at no moment did two nodes hold the store (DRBD Primary; on shared storage,
 * the store mounted), or two nodes hold the virtual IP.
 *
 * Each node's state is a step function built from the watcher's samples (every change, as the
 * node reported it) and its BMC's log: a power-off or reset that the BMC carried out ends
 * whatever the node held. When a node's stream is lost, its last reported state stands until it
 * is powered off or reports again: a node nobody can see is not assumed to have let go.
 *
 * An overlap that both nodes reported is a failure. An overlap that rests on a lost node's last
 * reported state cannot be told apart from a dead node: it is `unknown`, unless the fencing
 * checker's evidence (a power-off) closes it first.
 */
import { storeOf } from '../storage/storage.ts';
import type { Checker } from './checker.ts';
import { nodePowerLosses, type Observations } from './observations.ts';

interface NodeState {
  primary: boolean;
  vip: boolean;
  /** False from a lost stream until the next report. */
  seen: boolean;
}

interface Change {
  time: number;
  node: string;
  apply: (s: NodeState) => NodeState;
}

interface Overlap {
  /** What two nodes held at once: the store's primary (the storage seam's words), or the virtual IP. */
  what: string;
  from: number;
  to?: number;
  /** Whether both nodes reported it (true) or one was only last seen so (false). */
  observed: boolean;
}

export const singlePrimary: Checker<unknown, Observations> = {
  name: 'single-primary',
  evidence: "each node's event stream (the kernel's DRBD role changes or the store's mounts, the virtual IP), ended by its power device's log from the run's start",
  check({ observations }) {
    const changes: Change[] = [];
    for (const s of observations.samples) {
      if (!s.reachable) changes.push({ time: s.time, node: s.node, apply: (st) => ({ ...st, seen: false }) });
      else changes.push({ time: s.time, node: s.node, apply: () => ({ primary: s.drbdRole === 'Primary' || s.storeMounted === true, vip: Boolean(s.holdsVip), seen: true }) });
    }
    for (const node of new Set(observations.powerLog.map((e) => e.node))) {
      for (const time of nodePowerLosses(observations, node)) changes.push({ time, node, apply: () => ({ primary: false, vip: false, seen: true }) });
    }
    const reports = observations.samples.filter((s) => s.reachable).length;
    if (reports === 0) return { valid: 'unknown', summary: 'the watcher saw no node state', details: {} };
    changes.sort((a, b) => a.time - b.time);

    const state = new Map<string, NodeState>();
    const open: Record<string, Overlap | undefined> = {};
    const overlaps: Overlap[] = [];
    // What holding the store means here: the store mounted (shared), or DRBD Primary.
    const store = storeOf({ storage: observations.store ?? 'drbd' }).words.primary;
    const judge = (time: number) => {
      for (const [what, key] of [
        [store, 'primary'],
        ['the virtual IP', 'vip'],
      ] as const) {
        const holders = [...state.values()].filter((s) => s[key]);
        const current = open[what];
        if (holders.length > 1) {
          const observed = holders.every((h) => h.seen);
          if (!current) open[what] = { what, from: time, observed };
          else if (observed) current.observed = true;
        } else if (current) {
          current.to = time;
          overlaps.push(current);
          delete open[what];
        }
      }
    };
    for (const c of changes) {
      state.set(c.node, c.apply(state.get(c.node) ?? { primary: false, vip: false, seen: true }));
      judge(c.time);
    }
    overlaps.push(...Object.values(open).filter((o): o is Overlap => o !== undefined));

    const nodes = new Set(observations.samples.map((s) => s.node)).size;
    const describe = (o: Overlap) =>
      `two nodes held ${o.what} from ${new Date(o.from).toISOString()}${o.to === undefined ? ' to the end of the run' : ` for ${((o.to - o.from) / 1000).toFixed(3)} s`}`;
    const details = { reports, changes: changes.length, overlaps: overlaps.map((o) => ({ ...o, seconds: o.to === undefined ? null : (o.to - o.from) / 1000 })) };
    const seen = overlaps.filter((o) => o.observed);
    if (seen.length) return { valid: false, summary: describe(seen[0]!), details };
    if (overlaps.length) return { valid: 'unknown', summary: `${describe(overlaps[0]!)}, as last reported by a node the watcher had lost`, details };
    return { valid: true, summary: `never two primaries or two IP holders: ${reports} state reports from ${nodes} nodes, BMC power-offs included`, details };
  },
};
