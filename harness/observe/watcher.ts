/**
 * The node watcher: one event stream per node (so a dead node never delays the living one),
 * armed before the fault, stopped after the heal. Each stream reports the node's hold on the
 * store and whether it holds the virtual IP: a snapshot when it starts, then every change as it
 * happens, stamped by the node and mapped onto the host clock. What "the store" means comes from
 * the storage seam: DRBD's role and disk state from the kernel log (`role( Secondary -> Primary )`,
 * `disk( ... )`), or a shared disk's mounts and unmounts (findmnt --poll); the address from
 * `ip monitor`. Nothing is polled: a change is
 * seen when it happens, however brief. A stream that breaks (the node died or was fenced) is
 * recorded (`reachable: false`) and re-opened until the watcher stops; the re-opened stream's
 * snapshot says what the node came back as.
 */
import type { Logger } from '../core/log.ts';
import { sleep } from '../core/wait.ts';
import type { StartedTarget } from '../session/target.ts';
import type { LoadSample, NodeSample } from '../check/observations.ts';
import { storeOf } from '../storage/storage.ts';
import { epochMs, type StoreWatch } from '../storage/store-backend.ts';
import { toHostClock, type ClockOffset } from './clock.ts';

/** One thing a node's stream reported, on the node's clock (epoch ms). */
export type WatchEvent =
  | { kind: 'snapshot'; time: number; drbdRole?: string; drbdDisk?: string; storeMounted?: boolean; holdsVip: boolean }
  | { kind: 'drbd'; time: number; role?: string; disk?: string }
  | { kind: 'mount'; time: number; mounted: boolean }
  | { kind: 'vip'; time: number; holdsVip: boolean }
  | { kind: 'load'; time: number; load1: number; busyTicks: number; totalTicks: number };

/** How often each node reports its load average and CPU counters on the watcher's stream. */
export const LOAD_EVERY_S = 5;

/**
 * The script each node runs: streams first, then the snapshot, then it waits for stdin's EOF.
 * One brace group: bash reads a script from stdin line by line as it runs it, so without the
 * group the waiting `read` would take the script's own next line as its input and go on at once.
 */
export function watchScript(virtualIp: string, store: StoreWatch): string {
  return [
    '{',
    ...store.streams,
    // Line-buffered: on a pipe (no tty: the harness logs in as root, without sudo's pty) ip would
    // hold its events in a 4 KiB buffer, and the takeover would be seen minutes late.
    'TZ=UTC stdbuf -oL ip -ts -o -4 monitor address & i=$!',
    // The guest's load, every few seconds, with builtins only (one sleep per report).
    `while sleep ${LOAD_EVERY_S}; do read -r l1 _ < /proc/loadavg; while read -r c u n s idle io irq sirq st _; do [ "$c" = cpu ] && break; done < /proc/stat; echo "@@load $EPOCHREALTIME $l1 $((u+n+s+irq+sirq+st)) $((u+n+s+idle+io+irq+sirq+st))"; done & w=$!`,
    'sleep 1', // the streams open before the snapshot: a change in between is seen by both
    `echo "@@snapshot $(date +%s.%N) vip=$(ip -4 -o addr show | grep -c ' ${virtualIp}/')"`,
    ...store.snapshot,
    'echo "@@end-snapshot"',
    'read -r _ || true', // EOF: the harness stopped the stream or went away
    ...store.stop,
    'kill $i $w 2>/dev/null',
    '}',
    '',
  ].join('\n');
}


/**
 * Turns a stream's lines into events. Stateful only for the multi-line snapshot; pure otherwise.
 * Lines that say nothing about the watched state give nothing.
 */
export class WatchParser {
  private snapshot?: { time: number; holdsVip: boolean; lines: string[] };

  /** `store`: the storage seam's reading of its own lines (storage/store-backend.ts). */
  constructor(
    private readonly virtualIp: string,
    private readonly store: Pick<StoreWatch, 'parseLine' | 'parseSnapshot'>,
  ) {}

  push(line: string): WatchEvent | undefined {
    const snap = /^@@snapshot (\d+(?:\.\d+)?) vip=(\d+)/.exec(line);
    if (snap) {
      this.snapshot = { time: epochMs(snap[1]!), holdsVip: Number(snap[2]) > 0, lines: [] };
      return undefined;
    }
    const load = /^@@load (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+) (\d+)$/.exec(line);
    if (load) return { kind: 'load', time: epochMs(load[1]!), load1: Number(load[2]), busyTicks: Number(load[3]), totalTicks: Number(load[4]) };
    if (line === '@@end-snapshot' && this.snapshot) {
      const { time, holdsVip, lines } = this.snapshot;
      this.snapshot = undefined;
      return { kind: 'snapshot', time, holdsVip, ...this.store.parseSnapshot(lines) };
    }
    const change = this.store.parseLine(line);
    if (change) return change;
    // ip -ts -o monitor address: "[2026-11-25T13:41:28.123456] [Deleted ]3: eth1    inet 10.213.10.100/24 ..."
    const addr = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?\] (Deleted )?\d+: \S+\s+inet (\S+)\//.exec(line);
    if (addr && addr[4] === this.virtualIp) {
      const time = Date.parse(`${addr[1]}Z`) + Number(addr[2] ?? 0) * 1000;
      return { kind: 'vip', time, holdsVip: !addr[3] };
    }
    // The streams run on while a snapshot is printed: what is none of theirs is the snapshot's.
    this.snapshot?.lines.push(line);
    return undefined;
  }
}

/** The events that change a node's watched state (load reports do not). */
export type StateEvent = Exclude<WatchEvent, { kind: 'load' }>;

/** A node's watched state. */
export interface WatchedState {
  drbdRole?: string;
  drbdDisk?: string;
  /** Whether the shared store is mounted here (shared storage only). */
  storeMounted?: boolean;
  holdsVip?: boolean;
}

/** The state after one event: a snapshot replaces it, a change updates what it names. */
export function applyEvent(state: WatchedState, e: StateEvent): WatchedState {
  if (e.kind === 'snapshot') {
    return { drbdRole: e.drbdRole, drbdDisk: e.drbdDisk, ...(e.storeMounted === undefined ? {} : { storeMounted: e.storeMounted }), holdsVip: e.holdsVip };
  }
  if (e.kind === 'mount') return { ...state, storeMounted: e.mounted };
  if (e.kind === 'drbd') {
    // DRBD 8.4 logs no role change when a device is attached: it comes up Secondary.
    const attached = !e.role && e.disk && (state.drbdRole === undefined || state.drbdRole === 'Unconfigured');
    return { ...state, ...(e.role ? { drbdRole: e.role } : attached ? { drbdRole: 'Secondary' } : {}), ...(e.disk ? { drbdDisk: e.disk } : {}) };
  }
  return { ...state, holdsVip: e.holdsVip };
}

/**
 * A node's whole state after an event, as a sample on the host clock. An event cannot have
 * happened after the host received it: a node clock stepped forward (clock-jump) is capped at
 * the moment of receipt.
 */
export function toSample(node: string, state: WatchedState, e: StateEvent, offset: ClockOffset | undefined, receivedAt = Infinity): NodeSample {
  return { time: Math.min(toHostClock(e.time, offset), receivedAt), node, reachable: true, source: e.kind, ...state };
}

/** Folds a node's events into samples of its whole state, on the host clock. */
export function toSamples(node: string, events: WatchEvent[], offset: ClockOffset | undefined, initial: WatchedState = {}): NodeSample[] {
  let state = initial;
  return events.filter((e): e is StateEvent => e.kind !== 'load').map((e) => toSample(node, (state = applyEvent(state, e)), e, offset));
}

/** Load reports of one node's stream as samples on the host clock: the busy share is over the gap since the previous report. Pure. */
export function toLoadSamples(node: string, events: WatchEvent[], offset: ClockOffset | undefined): LoadSample[] {
  const loads = events.filter((e): e is Extract<WatchEvent, { kind: 'load' }> => e.kind === 'load');
  return loads.map((e, i) => {
    const prev = loads[i - 1];
    const total = prev ? e.totalTicks - prev.totalTicks : 0;
    return { node, time: toHostClock(e.time, offset), load1: e.load1, ...(prev && total > 0 ? { busyPercent: Number(((100 * (e.busyTicks - prev.busyTicks)) / total).toFixed(1)) } : {}) };
  });
}

/** How long one stream may live: far beyond any run; a bound, not a schedule. */
const STREAM_LIMIT_MS = 6 * 60 * 60 * 1000;

export class NodeWatcher {
  private readonly streams = new Map<string, NodeSample[]>();
  private readonly loads = new Map<string, WatchEvent[]>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly stopper = new AbortController();

  constructor(
    private lab: StartedTarget,
    private readonly offsets: Record<string, ClockOffset>,
    private readonly log: Logger,
  ) {}

  /** Points the watcher at a re-attached lab (after `lab.up()` during a heal). */
  retarget(lab: StartedTarget): void {
    this.lab = lab;
  }

  /** Starts the streams and waits (bounded) until each reachable node has sent its first snapshot. */
  async start(readyTimeoutMs = 30_000): Promise<void> {
    this.running = true;
    const ready = this.lab.plan.nodes.map((n) => {
      let signal!: () => void;
      const armed = new Promise<void>((resolve) => (signal = resolve));
      this.loops.push(this.watch(n.name, signal));
      return armed;
    });
    const bound = new AbortController();
    const timeout = sleep(readyTimeoutMs, bound.signal).then(
      () => 'timeout' as const,
      () => 'armed' as const,
    );
    const outcome = await Promise.race([Promise.all(ready).then(() => 'armed' as const), timeout]);
    bound.abort(); // no timer outlives the wait
    if (outcome === 'timeout') this.log.warn(`watcher: not every node sent its first snapshot within ${readyTimeoutMs} ms; streams keep trying`);
    else this.log.info('watcher armed (event streams on every node)');
  }

  /** What the streams have reported so far, in time order (the run waits on it). */
  samples(): NodeSample[] {
    return [...this.streams.values()].flat().sort((a, b) => a.time - b.time);
  }

  /** Each node's load reports so far, on the host clock (a re-opened stream starts a new series). */
  loadSamples(): LoadSample[] {
    return [...this.loads.entries()].flatMap(([key, events]) => toLoadSamples(key.split('#')[0]!, events, this.offsets[key.split('#')[0]!])).sort((a, b) => a.time - b.time);
  }

  async stop(): Promise<NodeSample[]> {
    this.running = false;
    this.stopper.abort();
    await Promise.allSettled(this.loops);
    return this.samples();
  }

  private async watch(node: string, armed: () => void): Promise<void> {
    const samples: NodeSample[] = [];
    this.streams.set(node, samples);
    // Kept across re-opened streams: a change event alone is not a whole state.
    let state: WatchedState = {};
    let lostSince: number | undefined;
    for (let opened = 0; this.running; opened++) {
      const parser = new WatchParser(this.lab.plan.virtualIp, storeOf(this.lab.plan).watch());
      // Counters restart with a node's boot: each stream is a series of its own.
      const loads: WatchEvent[] = [];
      this.loads.set(`${node}#${opened}`, loads);
      const ended = await this.lab.ssh.stream(
        node,
        watchScript(this.lab.plan.virtualIp, storeOf(this.lab.plan).watch()),
        (line) => {
          const event = parser.push(line);
          if (!event) return;
          if (event.kind === 'load') {
            loads.push(event);
            return;
          }
          if (event.kind === 'snapshot') {
            armed();
            if (lostSince !== undefined) this.log.info(`watcher: ${node} reports again after ${((Date.now() - lostSince) / 1000).toFixed(1)} s`);
            lostSince = undefined;
          }
          state = applyEvent(state, event);
          samples.push(toSample(node, state, event, this.offsets[node], Date.now()));
        },
        { timeoutMs: STREAM_LIMIT_MS, signal: this.stopper.signal, phase: 'watch' },
      );
      if (!this.running) break;
      if (lostSince === undefined) {
        lostSince = Date.now();
        samples.push({ time: lostSince, node, reachable: false, source: 'lost' });
        this.log.info(`watcher: stream from ${node} ended (${ended.reason}); re-opening every second until it reports`);
      }
      await sleep(1000, this.stopper.signal).catch(() => undefined);
    }
  }
}
