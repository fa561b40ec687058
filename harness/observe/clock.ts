/**
 * Node clocks onto the host clock. Guest clocks drift (about 1 s seen under TCG), so each node's
 * offset is measured (host time at the midpoint of an SSH round trip vs the node's `date`) and
 * node timestamps are shifted by it before any comparison with host-side events.
 */
import type { StartedTarget } from '../session/target.ts';

export interface ClockOffset {
  node: string;
  /** node clock minus host clock, ms. */
  offsetMs: number;
  /** Half the round trip: the measurement's uncertainty, ms. */
  uncertaintyMs: number;
}

/** Measures a node's clock offset (best of three round trips). */
export async function measureOffset(lab: Pick<StartedTarget, 'ssh'>, node: string): Promise<ClockOffset> {
  let best: ClockOffset | undefined;
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const r = await lab.ssh.root(node, 'date +%s%N', { timeoutMs: 15_000, reject: false });
    const t1 = Date.now();
    if (!r.ok) continue;
    const nodeMs = Number(BigInt(r.stdout.trim()) / 1_000_000n);
    const m = { node, offsetMs: nodeMs - (t0 + t1) / 2, uncertaintyMs: (t1 - t0) / 2 };
    if (!best || m.uncertaintyMs < best.uncertaintyMs) best = m;
  }
  if (!best) throw new Error(`cannot read the clock of ${node}`);
  return best;
}

/** Maps a node timestamp (epoch ms, node clock) onto the host clock. */
export function toHostClock(nodeMs: number, offset: ClockOffset | undefined): number {
  return nodeMs - (offset?.offsetMs ?? 0);
}

/** The script that steps the clock to host time plus `offsetMs` (the node's own offset before the fault). */
export function setClockScript(hostNowMs: number, offsetMs: number): string {
  const target = (hostNowMs + offsetMs) / 1000;
  return `date -u -s @${target.toFixed(3)} >/dev/null && date +%s%N`;
}
