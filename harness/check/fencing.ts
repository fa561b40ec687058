/**
 * Fencing before takeover: when the scenario expects a failover, the failed node must have been
 * fenced (a successful fence event targeting it, and its power device(s) showing it lost all power) before the
 * survivor took the store over (promoted DRBD, or mounted the shared disk). A takeover without a confirmed fence is a failure. Scenarios that
 * expect no failover must see no promotion on the other node and no fencing at all; with
 * `no-takeover` (the peer's copy is outdated) the failed node may be fenced, but the peer must
 * never promote. The failed
 * node's peer must never be fenced (a fence race).
 */
import { storeOf } from '../storage/storage.ts';
import type { Checker } from './checker.ts';
import { nodePowerLosses, type Observations } from './observations.ts';
import { suppliesNeverOff } from '../power/power-log.ts';
import type { Scenario } from '../scenario/scenario.ts';

/** How long before its confirmation a fence may have powered a machine off (the fence's own duration, up to stonith-timeout). */
const MISDIRECTED_WINDOW_MS = 180_000;

export const fencing: Checker<Scenario, Observations> = {
  name: 'fencing',
  evidence: "the fencer's history (each fence's target, result and time), every power device's own log from the run's start (the power truth of this run), and the survivor's journal for the takeover",
  check({ scenario, observations }) {
    const { fault } = observations;
    const tookOver = storeOf({ storage: observations.store ?? 'drbd' }).words.tookOver;
    const takeover = observations.takeovers.filter((p) => p.node !== fault.node && p.at >= fault.injectedAt).sort((a, b) => a.at - b.at)[0];
    const fences = observations.fenceEvents.filter((f) => f.target === fault.node && f.completedAt >= fault.injectedAt);
    const confirmed = fences.filter((f) => f.status === 'success').sort((a, b) => a.completedAt - b.completedAt)[0];
    // Judged from the power devices' own logs: with two supplies, only all outlets off is a power-off.
    const offs = nodePowerLosses(observations, fault.node, false).filter((time) => time >= fault.injectedAt - 1000);
    const details = { takeoverAt: takeover?.at, fenceConfirmedAt: confirmed?.completedAt, fenceEvents: fences, bmcPowerOffs: offs };

    // The peer of the failed node is the one that must survive: shooting it too is a fence race
    // (both nodes down: a full outage), whatever the scenario expects.
    const peerShot = observations.fenceEvents.filter((f) => f.target !== fault.node && f.status === 'success' && f.completedAt >= fault.injectedAt);
    const peers = [...new Set(observations.powerLog.map((e) => e.node))].filter((n) => n !== fault.node);
    const peerOffs = peers.flatMap((node) => nodePowerLosses(observations, node, false).filter((time) => time >= fault.injectedAt).map((time) => ({ node, time })));
    if (!peerShot.length && peerOffs.length) {
      // No fence targeted the peer, yet it lost power while the failed node was being fenced: the
      // failed node's fence device reaches the peer's machine. Named as what it is, not as a race.
      const off = peerOffs[0]!;
      const fence = fences.filter((f) => off.time >= f.completedAt - MISDIRECTED_WINDOW_MS && off.time <= f.completedAt + 5000).sort((a, b) => a.completedAt - b.completedAt)[0];
      // ...and the failed node's own power device saw no request from that fence (in a race it would have: both were shot).
      const ownRequests = fence ? observations.powerLog.filter((e) => e.node === fault.node && e.result === 'done' && e.time > fault.injectedAt + 1000 && e.time <= fence.completedAt + 5000) : [];
      if (fence && ownRequests.length === 0) {
        const devices = observations.fenceDevices?.[fault.node];
        const by = devices?.length ? ` (${devices.join(', ')})` : '';
        const at = (t: number) => `+${((t - fault.injectedAt) / 1000).toFixed(1)} s`;
        return {
          valid: false,
          summary: `the fence of ${fault.node}${by} powered off ${off.node}: ${off.node}'s power device shows it off at ${at(off.time)}, the fence of ${fault.node} ${fence.status === 'success' ? 'was reported done' : 'ended'} at ${at(fence.completedAt)}, and no fence targeted ${off.node}; the fence device of ${fault.node} reaches ${off.node}'s machine (a misdirected fence device, not a fence race)`,
          details: { ...details, misdirected: { fenceOf: fault.node, devices: devices ?? [], poweredOff: off.node, at: off.time } },
        };
      }
    }
    if (peerShot.length || peerOffs.length) {
      const victim = peerShot[0]?.target ?? peerOffs[0]!.node;
      return { valid: false, summary: `${victim} was fenced too (fence race): only ${fault.node} had failed`, details: { ...details, peerFenced: peerShot, peerBmcPowerOffs: peerOffs.map((o) => o.time) } };
    }
    if (scenario.expect === 'no-takeover') {
      // Until the heal: once the failed node is back and has resynced its peer, either may be promoted.
      const early = takeover && (fault.healedAt === undefined || takeover.at < fault.healedAt) ? takeover : undefined;
      if (early) return { valid: false, summary: `${early.node} ${tookOver} although it must not take over (its copy was outdated)`, details };
      const fenced = confirmed ? `; ${fault.node} fenced` : '';
      return { valid: true, summary: `no takeover, as required${fenced}`, details };
    }
    if (scenario.expect === 'no-outage') {
      const wrong = [takeover ? `${takeover.node} ${tookOver}` : '', fences.length ? `${fences.length} fencing operation(s) against ${fault.node}` : ''].filter(Boolean);
      return wrong.length ? { valid: false, summary: `no failover was allowed, but ${wrong.join(' and ')}`, details } : { valid: true, summary: 'no takeover and no fencing, as required', details };
    }
    if (!takeover) {
      if (scenario.expect === 'failover') return { valid: 'unknown', summary: 'no takeover was observed: nothing to order', details };
      return { valid: true, summary: 'recovered in place: no takeover to order against fencing', details };
    }
    if (!confirmed) {
      // A resource failure may move the service after a clean stop: no fencing is needed then
      // (single-primary still guards against two primaries).
      if (scenario.expect === 'recovery' && fences.length === 0) return { valid: true, summary: `moved to ${takeover.node} after a clean stop, without fencing`, details };
      return { valid: false, summary: `${takeover.node} took over without a confirmed fence of ${fault.node}`, details };
    }
    if (confirmed.completedAt > takeover.at) {
      return { valid: false, summary: `${takeover.node} ${tookOver} ${((confirmed.completedAt - takeover.at) / 1000).toFixed(2)} s before the fence of ${fault.node} was confirmed`, details };
    }
    const offBefore = offs.some((time) => time <= takeover.at);
    if (!offBefore) {
      const supplies = observations.powerSupplies?.[fault.node];
      const stayedOn = supplies && supplies.length > 1 ? suppliesNeverOff(observations.powerLog, fault.node, supplies, fault.injectedAt - 1000, takeover.at) : [];
      const why = stayedOn.length ? `: ${stayedOn.join(', ')} never went off (a node with ${supplies!.length} power supplies is off only when all are)` : '';
      return { valid: false, summary: `the power device${supplies && supplies.length > 1 ? 's' : ''} of ${fault.node} show${supplies && supplies.length > 1 ? '' : 's'} no power-off before the takeover${why}`, details };
    }
    const failedFirst = fences.filter((f) => f.status === 'failed' && f.completedAt < confirmed.completedAt).length;
    const retried = failedFirst ? ` (after ${failedFirst} failed fencing attempt(s))` : '';
    return { valid: true, summary: `${fault.node} fenced ${((takeover.at - confirmed.completedAt) / 1000).toFixed(2)} s before ${takeover.node} ${tookOver}${retried}`, details };
  },
};
