/** Combinations on stand-in faults that record what they are asked to do. */
import test from 'ava';
import { rootLogger } from '../../harness/core/log.ts';
import { sequence } from '../../harness/faults/combined.ts';
import { parseDomBlkList } from '../../harness/lab/lab-machines.ts';
import type { Fault, FaultContext } from '../../harness/faults/fault.ts';
import type { FaultKind } from '../../harness/scenario/scenario.ts';

function recorder(calls: string[], name: string, options: { healFails?: boolean; leftover?: string } = {}): Fault {
  return {
    kind: name as FaultKind,
    description: name,
    inject: async () => {
      calls.push(`inject ${name} ${Date.now()}`);
      return name;
    },
    heal: async () => {
      calls.push(`heal ${name}`);
      if (options.healFails) throw new Error(`${name} would not heal`);
    },
    audit: async () => (options.leftover ? [options.leftover] : []),
  };
}

const ctx = { node: 'node1', log: rootLogger('test') } as unknown as FaultContext;

test('steps are injected in order with their gap, healed in reverse, audited together', async (t) => {
  const calls: string[] = [];
  const combo = sequence('replication-loss-then-power-cut-active', 'a then b', [
    { fault: recorder(calls, 'a'), afterSeconds: 0 },
    { fault: recorder(calls, 'b', { leftover: 'b left something' }), afterSeconds: 0.3 },
  ]);
  const result = (await combo.inject(ctx)) as { fault: string; result: unknown }[];
  t.deepEqual(result.map((r) => [r.fault, r.result]), [['a', 'a'], ['b', 'b']]);
  const [a, b] = calls.map((c) => Number(c.split(' ')[2]));
  t.true(b! - a! >= 290, `the gap was ${b! - a!} ms`);
  await combo.heal(ctx);
  t.deepEqual(calls.slice(2), ['heal b', 'heal a']);
  t.deepEqual(await combo.audit(ctx), ['b left something']);
});

test('a heal that fails does not stop the others; its error comes out after all ran', async (t) => {
  const calls: string[] = [];
  const combo = sequence('replication-loss-then-power-cut-active', 'a then b', [
    { fault: recorder(calls, 'a'), afterSeconds: 0 },
    { fault: recorder(calls, 'b', { healFails: true }), afterSeconds: 0 },
  ]);
  await t.throwsAsync(combo.heal(ctx), { message: 'b would not heal' });
  t.deepEqual(calls, ['heal b', 'heal a']);
});

test('the gap is cancelled with the run', async (t) => {
  const calls: string[] = [];
  const combo = sequence('replication-loss-then-power-cut-active', 'a then b', [
    { fault: recorder(calls, 'a'), afterSeconds: 0 },
    { fault: recorder(calls, 'b'), afterSeconds: 30 },
  ]);
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 100);
  const t0 = Date.now();
  const error = await combo.inject({ ...ctx, signal: stop.signal }).then(
    () => undefined,
    (e: unknown) => e as { name?: string },
  );
  t.is(error?.name, 'AbortError');
  t.true(Date.now() - t0 < 5000);
  t.is(calls.length, 1, 'the second fault never hit');
});

test('disk death finds the backing disk in virsh domblklist --details', (t) => {
  const list = [
    ' Type   Device   Target   Source',
    '-----------------------------------------------------------------------------',
    ' file   disk     vda      /var/lib/libvirt/images/hachaos-lab-node1.img',
    ' file   disk     vdb      /var/lib/libvirt/images/hachaos-lab-node1-vdb.qcow2',
    ' file   cdrom    hdc      -',
  ].join('\n');
  t.deepEqual(parseDomBlkList(list), { vda: '/var/lib/libvirt/images/hachaos-lab-node1.img', vdb: '/var/lib/libvirt/images/hachaos-lab-node1-vdb.qcow2' }, 'a CD-ROM is no disk');
});
