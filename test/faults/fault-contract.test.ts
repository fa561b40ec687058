/**
 * The fault contract, for every kind in the catalogue, on the fake target (test/fake-target.ts):
 * - inject changes the cluster's state as the row says (and only that);
 * - heal restores it; a second heal is harmless;
 * - a heal after an inject that failed at any of its steps restores what was done;
 * - after the heal the audit (the fault's own and the lab-wide one) is clean, and without the heal
 *   it names the leftover (where the fault leaves one for the cluster to see);
 * - a fault whose methods the target lacks is not applicable, saying which, never faked;
 * - every command a fault sends is one the fake knows (a new command must be taught to it).
 * A kind without a row does not compile (the table is a Record over the fault kinds) and fails the
 * first test.
 */
import test from 'ava';
import { FAULT_KINDS, type FaultKind } from '../../harness/scenario/scenario.ts';
import { faultFor } from '../../harness/faults/catalog.ts';
import { auditTarget } from '../../harness/faults/audit.ts';
import type { Fault, FaultContext } from '../../harness/faults/fault.ts';
import type { StorageKind } from '../../harness/cluster/plan.ts';
import { FakeTarget, fakeLog } from '../fake-target.ts';

interface Row {
  /** The store the fault is for (the fake is built with it). */
  storage: StorageKind;
  /** The state paths the inject changes on the active node (node1), or the power devices'. */
  changes: string[];
  /** Why the audit, without a heal, finds nothing (the cluster recovers by itself); absent: it must name the leftover. */
  noLeftoverBecause?: string;
}

const node = (path: string) => `cluster.nodes.node1.${path}`;
/** The passive node's (a fault on the copy that is not serving). */
const peer = (path: string) => `cluster.nodes.node2.${path}`;
const device = (path: string) => `devices.0.${path}`;

const ROWS: Record<FaultKind, Row> = {
  'power-cut-active': { storage: 'drbd', changes: [node('powered')] },
  'hard-reset-active': { storage: 'drbd', changes: [node('boots')], noLeftoverBecause: 'a reset leaves nothing behind: the node boots again' },
  'heartbeat-loss-active': { storage: 'drbd', changes: [node('carrier.ring0'), node('carrier.ring1')] },
  'one-ring-loss-active': { storage: 'drbd', changes: [node('carrier.ring0')] },
  'kill-mail-service-active': { storage: 'drbd', changes: [node('failures')], noLeftoverBecause: 'the cluster restarts the service; its failure record is what the heal clears' },
  'kill-corosync-active': { storage: 'drbd', changes: [node('failures')], noLeftoverBecause: 'the cluster recovers (fences) the node; its failure record is what the heal clears' },
  'freeze-active': { storage: 'drbd', changes: [node('paused')] },
  'kernel-panic-active': { storage: 'drbd', changes: [node('panicked')] },
  'replication-loss-active': { storage: 'drbd', changes: [node('carrier.replication')] },
  'client-nic-loss-active': { storage: 'drbd', changes: [node('carrier.client')] },
  'power-cut-bmc-dead-active': { storage: 'drbd', changes: [node('powered'), device('dead')] },
  'power-cut-slow-bmc-active': { storage: 'drbd', changes: [node('powered'), device('control.delayMs')] },
  'heartbeat-degraded-active': { storage: 'drbd', changes: [node('qdisc.eth2'), node('qdisc.eth3')] },
  'disk-full-active': { storage: 'drbd', changes: [node('fill')] },
  'clock-jump-active': { storage: 'drbd', changes: [node('clockOffsetMs')] },
  'replication-loss-then-power-cut-active': { storage: 'drbd', changes: [node('carrier.replication'), node('powered')] },
  'disk-death-active': { storage: 'drbd', changes: [node('disks.vdb'), node('drbdAttached')] },
  'one-ring-one-way-loss-active': { storage: 'drbd', changes: [node('rules.0')] },
  'kill-pacemaker-controller-active': { storage: 'drbd', changes: [node('failures')], noLeftoverBecause: 'the cluster respawns the controller; its failure record is what the heal clears' },
  'store-path-loss-active': { storage: 'shared', changes: [node('disks.vdb')] },
  'power-loss-active': { storage: 'drbd', changes: [node('powered'), device('dead')] },
  'disk-bad-sectors-active': { storage: 'drbd', changes: [node('dm.table'), node('dm.kept'), node('drbdAttached')] },
  'disk-write-errors-active': { storage: 'drbd', changes: [node('dm.table'), node('dm.kept'), node('drbdAttached')] },
  'disk-dropped-writes-passive': { storage: 'drbd', changes: [peer('dm.table'), peer('dm.kept')] },
  'disk-slow-active': { storage: 'drbd', changes: [node('dm.table'), node('dm.kept')] },
  'disk-hung-active': { storage: 'drbd', changes: [node('dm.suspended'), node('dm.kept')] },
};

/** Leaf paths of a JSON value, `a.b.0.c` -> value. */
function leaves(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

/** The paths whose value differs between two snapshots. */
function changed(before: unknown, after: unknown): string[] {
  const a = leaves(before);
  const b = leaves(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))).sort();
}

/** Differences that are not the fault's: a boot the heal (or the cluster's fence) caused is the node coming back. */
const restoredExceptBoots = (before: unknown, after: unknown) => changed(before, after).filter((p) => !p.endsWith('.boots'));

function setup(kind: FaultKind): { fault: Fault; target: FakeTarget; ctx: FaultContext; before: unknown } {
  const target = new FakeTarget(ROWS[kind].storage);
  const ctx: FaultContext = { target, node: 'node1', log: fakeLog };
  return { fault: faultFor(kind), target, ctx, before: target.snapshot() };
}

test('every fault kind has a row, and every row is a fault kind', (t) => {
  t.deepEqual(Object.keys(ROWS).sort(), [...FAULT_KINDS].sort());
});

for (const kind of FAULT_KINDS) {
  const row = ROWS[kind];

  test(`${kind}: inject changes what it says, and only that; the fake knows every command`, async (t) => {
    const { fault, target, ctx, before } = setup(kind);
    t.is(fault.notApplicable?.(target.traits), undefined, 'applies to the fake');
    await fault.inject(ctx);
    t.deepEqual(changed(before, target.snapshot()), [...row.changes].sort());
    t.deepEqual(target.unknown, []);
  });

  test(`${kind}: heal restores the state; a second heal is harmless`, async (t) => {
    const { fault, target, ctx, before } = setup(kind);
    await fault.inject(ctx);
    await fault.heal(ctx);
    t.deepEqual(restoredExceptBoots(before, target.snapshot()), [], 'restored by the heal');
    await t.notThrowsAsync(fault.heal(ctx), 'a second heal');
    t.deepEqual(restoredExceptBoots(before, target.snapshot()), [], 'still restored after the second heal');
    t.deepEqual(target.unknown, []);
  });

  test(`${kind}: a heal after an inject that failed at any step restores what was done`, async (t) => {
    // How many operations a whole inject takes, on a fake of its own.
    const probe = setup(kind);
    await probe.fault.inject(probe.ctx);
    const steps = probe.target.operations;
    t.true(steps > 0, 'the inject does something');
    for (let failAt = 1; failAt <= steps; failAt++) {
      const { fault, target, ctx, before } = setup(kind);
      target.failAt = failAt;
      await fault.inject(ctx).catch(() => undefined); // failed or partial: either way the heal must cope
      target.failAt = undefined;
      await t.notThrowsAsync(fault.heal(ctx), `heal after operation ${failAt} of ${steps} failed`);
      t.deepEqual(restoredExceptBoots(before, target.snapshot()), [], `restored after operation ${failAt} of ${steps} failed`);
    }
  });

  test(`${kind}: the audit is clean after the heal, and ${row.noLeftoverBecause ? 'finds nothing without it (the cluster recovers)' : 'names the leftover without it'}`, async (t) => {
    const { fault, target, ctx } = setup(kind);
    await fault.inject(ctx);
    const unhealed = [...(await fault.audit(ctx)), ...(await auditTarget(target))];
    if (row.noLeftoverBecause) t.deepEqual(unhealed, [], row.noLeftoverBecause);
    else t.true(unhealed.length > 0, 'a leftover named before the heal');
    await fault.heal(ctx);
    t.deepEqual([...(await fault.audit(ctx)), ...(await auditTarget(target))], []);
  });
}

test('a fault whose methods the target lacks is not applicable, naming what is missing; the others still apply', (t) => {
  for (const kind of FAULT_KINDS) {
    const storage = ROWS[kind].storage;
    const bare = new FakeTarget(storage, []);
    const full = new FakeTarget(storage);
    const fault = faultFor(kind);
    t.is(fault.notApplicable?.(full.traits), undefined, `${kind} applies with every method`);
    const why = fault.notApplicable?.(bare.traits);
    if (why !== undefined) t.regex(why, /^needs .+, which this lab does not have$/, kind);
  }
  // The ones that need nothing of a hypervisor or a breakable device run anywhere.
  const anywhere = FAULT_KINDS.filter((kind) => faultFor(kind).notApplicable?.(new FakeTarget(ROWS[kind].storage, []).traits) === undefined);
  t.deepEqual(anywhere, [
    'power-cut-active',
    'hard-reset-active',
    'heartbeat-loss-active',
    'one-ring-loss-active',
    'kill-mail-service-active',
    'kill-corosync-active',
    'replication-loss-active',
    'client-nic-loss-active',
    'disk-full-active',
    'replication-loss-then-power-cut-active',
    'one-ring-one-way-loss-active',
    'kill-pacemaker-controller-active',
  ]);
});

test('a fault for the other store is not applicable, saying why', (t) => {
  const shared = new FakeTarget('shared').traits;
  const drbd = new FakeTarget('drbd').traits;
  t.regex(faultFor('replication-loss-active').notApplicable?.(shared) ?? '', /shared store has no replication link/);
  t.regex(faultFor('disk-death-active').notApplicable?.(shared) ?? '', /shared store has no per-node backing disk/);
  t.regex(faultFor('store-path-loss-active').notApplicable?.(drbd) ?? '', /DRBD store has no array path/);
  // The disk faults need the dm device under the store: the lane (a container: no device-mapper of
  // its own) and a target file that names none say so first. On a shared store (one copy) only the
  // path faults apply: a slow or a hung path; a failing disk is the array's to mask.
  const lane: typeof drbd = { kind: 'containers', storage: 'shared', methods: ['hypervisor-nic', 'machine-pause', 'power-device-faults'], describe: 'lane' };
  const targetWithout: typeof drbd = { kind: 'cluster', storage: 'drbd', methods: ['own-kernel', 'own-clock', 'netem'], describe: 'cluster' };
  const targetWith: typeof drbd = { ...targetWithout, methods: [...targetWithout.methods, 'store-dm'] };
  for (const kind of ['disk-bad-sectors-active', 'disk-write-errors-active', 'disk-dropped-writes-passive', 'disk-slow-active', 'disk-hung-active'] as const) {
    t.regex(faultFor(kind).notApplicable?.(lane) ?? '', /^needs a device-mapper device under the store .*a container has no device-mapper of its own.*, which this container lane does not have$/, kind);
    t.regex(faultFor(kind).notApplicable?.(targetWithout) ?? '', /^needs a device-mapper device under the store .*, which this cluster does not have$/, kind);
    t.is(faultFor(kind).notApplicable?.(targetWith), undefined, kind);
  }
  for (const kind of ['disk-bad-sectors-active', 'disk-write-errors-active', 'disk-dropped-writes-passive'] as const) {
    t.regex(faultFor(kind).notApplicable?.({ ...shared, methods: [...shared.methods, 'store-dm'] }) ?? '', /a shared store has one copy: no peer serves a read or takes a write its disk fails/, kind);
  }
  for (const kind of ['disk-slow-active', 'disk-hung-active'] as const) t.is(faultFor(kind).notApplicable?.({ ...shared, methods: [...shared.methods, 'store-dm'] }), undefined, kind);
});

for (const kind of ['disk-slow-active', 'disk-hung-active'] as const) {
  test(`${kind} on a shared store (the node's path to the disk behind its dm device): inject, heal, audit clean`, async (t) => {
    const target = new FakeTarget('shared');
    const ctx: FaultContext = { target, node: 'node1', log: fakeLog };
    const before = target.snapshot();
    await faultFor(kind).inject(ctx);
    t.deepEqual(changed(before, target.snapshot()).sort(), [...ROWS[kind].changes].sort());
    t.true((await faultFor(kind).audit(ctx)).length > 0, 'the leftover named without a heal');
    await faultFor(kind).heal(ctx);
    t.deepEqual(changed(before, target.snapshot()), []);
    t.deepEqual(await faultFor(kind).audit(ctx), []);
  });
}
