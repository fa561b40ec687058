/**
 * Failover time: how long clients saw no service. The outage starts when clients lost the
 * service: at the last success before the first failed or unknown operation after the fault, but
 * never before the fault (for a held fault whose release breaks something, that is the release,
 * not the fault); it ends at the first successful client operation after the last failed or
 * unknown one. It is held to the scenario's SLO. With `no-outage` (no failover allowed), the SLO bounds a stall: 0
 * means any failed or unknown operation after the fault fails the check. The split into phases comes from the observations.
 */
import type { Checker, CheckResult } from './checker.ts';
import { clusterNodes, describeNodeStates, noNodeUpSince, nodeStatesAt, phasesAfterFault, type Observations } from './observations.ts';
import type { Scenario } from '../scenario/scenario.ts';
import { pairOperations, outcome } from '../history/operation.ts';

/** Client operations that measure availability: sends and probes (not the final read-back). */
const isClientOp = (process: string) => process.startsWith('smtp-') || process.startsWith('probe-');

/** The client streams whose outages are reported one by one. */
const STREAMS: Record<string, (process: string) => boolean> = {
  smtp: (p) => p === 'probe-smtp',
  imap: (p) => p === 'probe-imap',
  sends: (p) => p.startsWith('smtp-'),
};

/** A client operation as the outage rule sees it: when it was invoked and ended, and how. */
export interface ClientOp {
  invokedAt: number;
  time: number;
  outcome: string;
  process: string;
}

/** Client operations (sends and probes) of a history, in completion order: what the outage rule reads. */
export function clientOps(history: Parameters<typeof pairOperations>[0], match: (process: string) => boolean = isClientOp): ClientOp[] {
  return pairOperations(history)
    .filter((p) => match(p.invoke.process))
    .map((p) => ({ invokedAt: p.invoke.time, time: p.completion?.time ?? p.invoke.time, outcome: outcome(p), process: p.invoke.process }))
    .sort((a, b) => a.time - b.time);
}

/**
 * The outage of `ops` after the fault, by the one rule the verdict, the per-protocol outages and
 * the run's "service answering" phase all use: from the last success before the first failed or
 * unknown operation (never before the fault) to the first success after the last one (`end`
 * undefined: it never came back). Undefined when nothing failed. Pure.
 */
export function outageOf(ops: readonly ClientOp[], faultAt: number): { start: number; end?: number; firstBad: ClientOp; failed: number } | undefined {
  const sorted = [...ops].sort((a, b) => a.time - b.time);
  const after = sorted.filter((o) => o.invokedAt >= faultAt);
  const bad = after.filter((o) => o.outcome !== 'ok');
  if (!bad.length) return undefined;
  const firstBad = bad.reduce((a, b) => (b.invokedAt < a.invokedAt ? b : a));
  const lastBad = Math.max(...bad.map((o) => o.time));
  const lastOk = sorted.filter((o) => o.outcome === 'ok' && o.time <= firstBad.invokedAt).at(-1)?.time;
  const back = after.find((o) => o.outcome === 'ok' && o.time > lastBad);
  return { start: Math.max(faultAt, lastOk ?? faultAt), end: back?.time, firstBad, failed: bad.length };
}

/**
 * Each stream's outage after the fault, seconds (the same rule as the whole, {@link outageOf});
 * 0 for none, null if it never came back. Pure.
 */
export function streamOutages(ops: readonly ClientOp[], faultAt: number): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, match] of Object.entries(STREAMS)) {
    const mine = ops.filter((o) => match(o.process));
    if (!mine.some((o) => o.invokedAt >= faultAt)) continue;
    const o = outageOf(mine, faultAt);
    out[name] = !o ? 0 : o.end !== undefined ? Number(((o.end - o.start) / 1000).toFixed(2)) : null;
  }
  return out;
}

export const failoverTime: Checker<Scenario, Observations> = {
  name: 'failover-time',
  evidence: "the clients' operations through the virtual IP (SMTP and IMAP probes, the sender's sends) on the host clock, the survivor's journal for the phases, the power devices' logs and the nodes' event streams for which nodes were up",
  check({ scenario, history, observations }) {
    const result = judgeFailoverTime(scenario, history, observations);
    const overload = observations.overload?.reasons ?? [];
    // No node up at the end: the cause is the cluster's state, named by judgeFailoverTime; a slow host did not do that.
    if (result.valid === false && overload.length && !result.details?.noNodeUp) {
      // The host may be what was slow: say so next to the verdict, not instead of it.
      return { ...result, summary: `${result.summary} (the host was overloaded: ${overload.join('; ')})`, details: { ...result.details, overloaded: overload } };
    }
    return result;
  },
};

function judgeFailoverTime(scenario: Scenario, history: Parameters<Checker<Scenario, Observations>['check']>[0]['history'], observations: Observations): CheckResult {
  const slo = observations.slo ?? { maxOutageSeconds: scenario.slo.maxOutageSeconds, kind: 'absolute' as const, basis: `${scenario.slo.maxOutageSeconds} s` };
  scenario = { ...scenario, slo: { ...scenario.slo, maxOutageSeconds: slo.maxOutageSeconds } };
  const faultAt = observations.fault.injectedAt;
  const client = clientOps(history);
  const after = client.filter((o) => o.invokedAt >= faultAt);
  const bad = after.filter((o) => o.outcome !== 'ok');
  const phases = phasesAfterFault(observations);
  const protocols = streamOutages(client, faultAt);
  if (after.length === 0) return { valid: 'unknown', summary: 'no client operation after the fault: availability unmeasured', details: { phases, protocols, slo } };
  if (bad.length === 0) {
    return { valid: true, summary: 'no client-visible outage', details: { outageSeconds: 0, phases, protocols, slo } };
  }
  if (scenario.expect === 'no-takeover') {
    // No SLO: the service must wait for the failed node; the fencing check guards the takeover.
    const watched = ((after.at(-1)!.time - faultAt) / 1000).toFixed(1);
    return { valid: true, summary: `no SLO (the service waits for the failed node): ${bad.length} client operation(s) failed in the ${watched} s watched after the fault`, details: { failed: bad.length, phases, protocols, slo } };
  }
  const window = outageOf(client, faultAt)!;
  const { start } = window;
  const lastBad = Math.max(...bad.map((o) => o.time));
  const back = window.end === undefined ? undefined : after.find((o) => o.outcome === 'ok' && o.time === window.end);
  const from = start - faultAt > 1000 ? `, from ${((start - faultAt) / 1000).toFixed(1)} s after the fault` : '';
  if (scenario.expect === 'no-outage') {
    // No failover is allowed; a stall (e.g. writes held while DRBD outdates its peer) only
    // within the scenario's SLO, which is 0 where not even that is acceptable.
    const stall = back ? (back.time - start) / 1000 : undefined;
    if (stall !== undefined && stall <= scenario.slo.maxOutageSeconds) {
      return {
        valid: true,
        summary: `${bad.length} client operation(s) stalled after the fault; service back after ${stall.toFixed(1)} s, within the ${scenario.slo.maxOutageSeconds} s allowed`,
        details: { outageSeconds: Number(stall.toFixed(2)), sloSeconds: scenario.slo.maxOutageSeconds, failed: bad.slice(0, 20), phases, protocols, slo },
      };
    }
    return {
      valid: false,
      summary: `${bad.length} client operation(s) failed after the fault, where ${scenario.slo.maxOutageSeconds ? `at most ${scenario.slo.maxOutageSeconds} s of stall` : 'no outage'} is allowed${stall === undefined ? '' : ` (service back after ${stall.toFixed(1)} s)`}`,
      details: { ...(stall === undefined ? {} : { outageSeconds: Number(stall.toFixed(2)) }), sloSeconds: scenario.slo.maxOutageSeconds, failed: bad.slice(0, 20), phases, protocols, slo },
    };
  }
  if (!back) {
    // A run cut short (Ctrl-C) before the SLO ran out cannot say the service would not have come back.
    const watchedSeconds = observations.fault.healedAt === undefined ? undefined : (observations.fault.healedAt - faultAt) / 1000;
    if (watchedSeconds !== undefined && watchedSeconds < scenario.slo.maxOutageSeconds) {
      return {
        valid: 'unknown',
        summary: `the service was not back when the run stopped watching, ${watchedSeconds.toFixed(1)} s after the fault, before the SLO (${scenario.slo.maxOutageSeconds} s) ran out`,
        details: { lastFailureAt: lastBad, watchedSeconds, phases, protocols, slo },
      };
    }
    // Why not, from the evidence: a service cannot come back on a cluster with no node up.
    const end = observations.fault.healedAt ?? Math.max(...after.map((o) => o.time));
    const states = nodeStatesAt(observations, clusterNodes(observations), end);
    const since = noNodeUpSince(states);
    if (since !== undefined) {
      return {
        valid: false,
        summary: `the service could not come back: no node was up when the run stopped watching (${describeNodeStates(states, faultAt)})`,
        details: { lastFailureAt: lastBad, noNodeUp: { since, states }, phases, protocols, slo },
      };
    }
    return { valid: false, summary: 'the service did not come back within the run', details: { lastFailureAt: lastBad, phases, protocols, slo } };
  }
  const outage = (back.time - start) / 1000;
  const ok = outage <= scenario.slo.maxOutageSeconds;
  return {
    valid: ok,
    summary: `outage ${outage.toFixed(1)} s (SLO ${slo.kind === 'relative' ? slo.basis : `${slo.maxOutageSeconds} s`})${from}${ok ? '' : ': over the SLO'}`,
    details: { outageSeconds: Number(outage.toFixed(2)), outageStartedAt: start, sloSeconds: scenario.slo.maxOutageSeconds, firstSuccessBy: back.process, phases, protocols, slo },
  };
}

