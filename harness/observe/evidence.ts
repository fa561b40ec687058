/**
 * From the evidence collected after a run (each node's journal) to observations: fence results
 * from every journal (a fence race shows up in the shooter's, which may be the failed node's),
 * the failover's phases and DRBD takeovers from the survivors', Pacemaker's throttle messages
 * from all. Every node time is mapped onto the host clock with the node's measured offset.
 */
import type { Observations } from '../check/observations.ts';
import type { ClusterNode } from '../cluster/plan.ts';
import { toHostClock, type ClockOffset } from './clock.ts';
import type { NodeEvidence } from './collect.ts';
import { diskKernelLines, failoverEvents, fenceResults, parseJournal, throttleEvents, mailStarts } from './journal.ts';
import type { StoreBackend } from '../storage/store-backend.ts';

/** Adds what the journals say to `observations` (fence events, phases, takeovers, throttling). */
export function observeJournals(observations: Observations, evidence: NodeEvidence[], nodes: ClusterNode[], offsets: Record<string, ClockOffset>, store?: Pick<StoreBackend, 'takeover' | 'takeoverPhase'>, mailResources?: readonly string[]): void {
  const failed = observations.fault.node;
  for (const e of evidence) {
    if (!e.journal) continue;
    const lines = parseJournal(e.journal);
    const offset = offsets[e.node];
    const sinceNode = observations.fault.injectedAt + (offset?.offsetMs ?? 0);
    for (const f of fenceResults(lines, sinceNode)) {
      const completedAt = toHostClock(f.time, offset);
      const status = f.ok ? 'success' : 'failed';
      const seen = observations.fenceEvents.some((o) => o.target === f.target && o.status === status && Math.abs(o.completedAt - completedAt) < 5000);
      if (!seen) observations.fenceEvents.push({ target: f.target, action: f.action, status, delegate: e.node, completedAt });
    }
    // Throttling from the minute before the fault on: the run's whole window that the journal covers.
    // The kernel about the store's disk, from the fault on: quoted by a verdict on a disk fault that went otherwise.
    const disk = diskKernelLines(lines, sinceNode).map((l) => ({ node: e.node, at: toHostClock(l.time, offset), text: l.text }));
    if (disk.length) (observations.diskKernel ??= []).push(...disk);
    const throttled = throttleEvents(lines, sinceNode - 60_000).map((t) => ({ node: e.node, at: toHostClock(t.time, offset), text: t.text }));
    if (throttled.length) (observations.throttle ??= []).push(...throttled);
    // Pacemaker's starts of the mail service on every node, the failed one included: who recovered it.
    for (const start of mailStarts(lines, sinceNode, mailResources ?? [])) {
      const at = toHostClock(start.time, offset);
      if (!(observations.mailStarts ??= []).some((o) => o.resource === start.resource && Math.abs(o.at - at) < 2000)) observations.mailStarts.push({ node: e.node, resource: start.resource, at });
    }
    if (e.node === failed) continue;
    const events = failoverEvents(lines, failed, sinceNode, nodes.find((n) => n.name === failed)?.index, store, mailResources);
    for (const [phase, t] of Object.entries(events.phases)) observations.phases[phase] = toHostClock(t, offset);
    observations.takeovers.push(...events.takeovers.map((t) => ({ node: e.node, at: toHostClock(t, offset) })));
  }
}
