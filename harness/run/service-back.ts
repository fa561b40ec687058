/**
 * When a run may stop watching the fault: the service is back the way the scenario expects it.
 * Pure, so the rule a run waits on is tested on literal histories.
 *
 * - `failover`: the virtual IP is on a node other than the failed one (watcher samples), and both
 *   probes invoked after that move succeed. A probe that succeeds before the move proves
 *   nothing: a node that lost its heartbeat rings keeps serving until it is fenced.
 * - `recovery`: probes failed after the fault and both protocols answer again, steadily.
 * - `no-outage`: a grace period passed and both protocols answer.
 * (`no-takeover` does not wait for the service: the run watches a fixed window.)
 * In every case the last `steadyMs` of probes (after a release, if any) must all be ok and none
 * may hang (open over HANGING_MS), so one lucky probe in a flapping service, or one that never
 * returns, does not end the watch.
 */
import type { NodeSample } from '../check/observations.ts';
import { outcome, pairOperations, type Operation } from '../history/operation.ts';
import type { Expectation } from '../scenario/scenario.ts';

export interface ServiceBackInput {
  expect: Expectation;
  /** The node the fault hit. */
  faultNode: string;
  faultAt: number;
  /** A held fault's release: only probes sent after it count as steady. */
  releasedAt?: number;
  now: number;
  history: readonly Operation[];
  samples: readonly NodeSample[];
  /** Without failures, how long after the fault `recovery` and `no-outage` watch; default 45 s. */
  graceMs?: number;
  /** How long every probe must have been ok; default 3 s. */
  steadyMs?: number;
}

export type ServiceBack = { back: true; at: number } | { back: false; why: string };

const PROBES = ['probe-smtp', 'probe-imap'] as const;

/** A probe open longer than this is hanging (IMAP logins under emulation: p50 0.08 s, p99 1 s). */
const HANGING_MS = 2000;

/** The moment the virtual IP came to a node other than `faultNode` and is still there, if it is. */
export function vipMovedAt(samples: readonly NodeSample[], faultNode: string, faultAt: number): number | undefined {
  // Per surviving node: since when it holds the virtual IP without a break (a lost stream is a break).
  const holdingSince = new Map<string, number | undefined>();
  for (const s of [...samples].sort((a, b) => a.time - b.time)) {
    if (s.node === faultNode) continue;
    const holds = s.reachable && s.holdsVip === true;
    if (!holds) holdingSince.set(s.node, undefined);
    else if (holdingSince.get(s.node) === undefined) holdingSince.set(s.node, s.time);
  }
  return [...holdingSince.values()].find((t) => t !== undefined && t >= faultAt);
}

export function serviceBack(input: ServiceBackInput): ServiceBack {
  const { faultAt, now } = input;
  const graceMs = input.graceMs ?? 45_000;
  const steadyMs = input.steadyMs ?? 3_000;
  // The service must have been steady for a whole window after the last change the run made.
  const since = input.releasedAt ?? faultAt;
  const all = pairOperations(input.history).filter((p) => p.invoke.f === 'probe' && p.invoke.time >= faultAt);
  const probes = all.filter((p) => p.completion);
  const anyFailed = probes.some((p) => outcome(p) !== 'ok');
  const state = PROBES.map((proc) => {
    const mine = probes.filter((p) => p.invoke.process === proc);
    // A probe still open after HANGING_MS is hanging: the service is not answering now.
    const hanging = all.some((p) => p.invoke.process === proc && !p.completion && p.invoke.time < now - HANGING_MS);
    return { proc, last: mine.at(-1), hanging, recent: mine.filter((p) => p.completion!.time >= now - steadyMs && p.invoke.time >= since) };
  });
  const describe = state.map((s) => `${s.proc.slice(6)} ${s.hanging ? 'hanging' : s.last ? outcome(s.last) : 'no probe yet'}`).join(', ');
  const steady = now - since >= steadyMs && state.every((s) => s.last && !s.hanging && s.recent.length > 0 && s.recent.every((p) => outcome(p) === 'ok'));
  const lastAt = Math.max(...state.map((s) => s.last?.completion?.time ?? 0));

  if (input.expect === 'failover') {
    const moved = vipMovedAt(input.samples, input.faultNode, faultAt);
    if (moved === undefined) return { back: false, why: `the virtual IP has not moved off ${input.faultNode}; ${describe}` };
    const sinceMove = state.every((s) => s.last && s.last.invoke.time >= moved);
    if (steady && sinceMove) return { back: true, at: lastAt };
    return { back: false, why: `virtual IP moved ${((moved - faultAt) / 1000).toFixed(1)} s after the fault; ${describe}${steady ? '' : ' (not steady yet)'}` };
  }
  const waited = now - faultAt >= graceMs;
  const enough = input.expect === 'recovery' ? anyFailed || waited : waited;
  if (steady && enough) return { back: true, at: lastAt };
  return { back: false, why: `${describe}; failures since the fault: ${anyFailed ? 'yes' : 'none'}${steady ? '' : ' (not steady yet)'}` };
}
