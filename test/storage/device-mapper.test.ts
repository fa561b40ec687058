import test from 'ava';
import { DM_NAME, dmLeftovers, faultTable, loadTableScript, parseLinearTable, renderStoreDmUnit, restoreTableScript, saveTableScript, savedTablePath, tableSectors, tableTargets } from '../../harness/storage/device-mapper.ts';
import { badRange } from '../../harness/faults/dm-faults.ts';

// `dmsetup table hachaos-store` on the lab's node (1 GiB virtio disk 252:16).
const LAB_TABLE = '0 2097152 linear 252:16 0\n';

test('the lab table parses to one linear segment; its size is the disk', (t) => {
  const segments = parseLinearTable(LAB_TABLE);
  t.deepEqual(segments, [{ start: 0, length: 2097152, device: '252:16', offset: 0 }]);
  t.is(tableSectors(segments), 2097152);
});

test('a table that is not linear, or not a table, is refused, naming the target and never quoting the output', (t) => {
  t.throws(() => parseLinearTable('0 2097152 crypt aes-xts-plain64 0000 0 252:16 4096\n'), { message: /a crypt segment: only linear tables/ });
  t.throws(() => parseLinearTable('0 2097152 flakey 252:16 0 0 3600 1 error_writes\n'), { message: /a flakey segment.*heal it first/ });
  t.throws(() => parseLinearTable(''), { message: /no table/ });
  const error = t.throws(() => parseLinearTable('secret-password-here\n'));
  t.false(error?.message.includes('secret-password-here'));
  t.throws(() => parseLinearTable("0 8 linear /dev/sd'a 0\n"), { message: /not "<start> <length> linear <device> <offset>"/ });
});

test('each fault maps every linear segment to its own target on the same device and sectors', (t) => {
  const two = parseLinearTable('0 1000 linear 8:16 2048\n1000 3000 linear 8:32 0\n');
  t.deepEqual(faultTable(two, { kind: 'error-writes' }), ['0 1000 flakey 8:16 2048 0 3600 1 error_writes', '1000 3000 flakey 8:32 0 0 3600 1 error_writes']);
  t.deepEqual(faultTable(two, { kind: 'drop-writes' }), ['0 1000 flakey 8:16 2048 0 3600 1 drop_writes', '1000 3000 flakey 8:32 0 0 3600 1 drop_writes']);
  t.deepEqual(faultTable(two, { kind: 'delay', delayMs: 1000 }), ['0 1000 delay 8:16 2048 1000', '1000 3000 delay 8:32 0 1000']);
});

test('bad sectors: only the range fails reads, cut out of the segments it crosses; the rest stays linear at the right offsets', (t) => {
  const two = parseLinearTable('0 1000 linear 8:16 2048\n1000 3000 linear 8:32 0\n');
  t.deepEqual(faultTable(two, { kind: 'error-reads', start: 900, length: 200 }), [
    '0 900 linear 8:16 2048',
    '900 100 flakey 8:16 2948 0 3600',
    '1000 100 flakey 8:32 0 0 3600',
    '1100 2900 linear 8:32 100',
  ]);
  // On the lab's disk: 1 MiB in the middle, 4 KiB aligned, the end (DRBD's metadata) untouched.
  const range = badRange(2097152);
  t.deepEqual(range, { start: 1048576, length: 2048 });
  t.deepEqual(faultTable(parseLinearTable(LAB_TABLE), { kind: 'error-reads', ...range }), ['0 1048576 linear 252:16 0', '1048576 2048 flakey 252:16 1048576 0 3600', '1050624 1046528 linear 252:16 1050624']);
});

test('the scripts quote the name; a name that is not a dm name never reaches a script', (t) => {
  t.regex(saveTableScript('hachaos-store'), /dmsetup table 'hachaos-store' > '\/run\/ha-chaos\/dm-hachaos-store.table'.new/);
  t.regex(restoreTableScript('hachaos-store'), /dmsetup reload 'hachaos-store' '\/run\/ha-chaos\/dm-hachaos-store.table' && dmsetup resume 'hachaos-store'/);
  for (const bad of ['a;reboot', '../etc', '-rf', 'x y', 'a'.repeat(65)]) {
    t.false(DM_NAME.test(bad), bad);
    t.throws(() => savedTablePath(bad), { message: /not a device-mapper name/ });
  }
  t.throws(() => loadTableScript('hachaos-store', ["0 8 linear 8:16 0'; reboot; '"]), { message: /characters a table never has/ });
  t.is(loadTableScript('hachaos-store', ['0 8 delay 8:16 0 1000']), "printf '%s\\n' '0 8 delay 8:16 0 1000' | dmsetup reload 'hachaos-store' && dmsetup resume 'hachaos-store' && echo @@loaded");
});

test('the audit names a fault table, a suspended device and a kept original; a linear, active device is clean', (t) => {
  const out = (table: string, state: string, kept: boolean) => `@@table\n${table}\n@@info\nState:              ${state}\n@@saved\n${kept ? 'kept\n' : ''}`;
  t.deepEqual(dmLeftovers('node1', 'hachaos-store', out('0 2097152 linear 252:16 0', 'ACTIVE', false)), []);
  t.deepEqual(dmLeftovers('node1', 'hachaos-store', out('0 2097152 delay 252:16 0 1000', 'ACTIVE', true)), [
    "node1: the store's dm device hachaos-store still has a fault's table (delay)",
    'node1: the original table of hachaos-store is still kept in /run/ha-chaos/dm-hachaos-store.table (a disk fault not healed)',
  ]);
  t.deepEqual(dmLeftovers('node2', 'hachaos-store', out('0 2097152 linear 252:16 0', 'SUSPENDED', false)), ["node2: the store's dm device hachaos-store is suspended: every I/O to the store waits"]);
  t.deepEqual(tableTargets('0 900 linear 8:16 2048\n900 100 flakey 8:16 2948 0 3600\n'), ['linear', 'flakey']);
});

test('the boot unit makes the linear device before DRBD and the cluster, and is idempotent', (t) => {
  const { script, unit } = renderStoreDmUnit('/dev/vdb');
  t.regex(unit, /^Before=drbd.service corosync.service pacemaker.service ssh.service$/m);
  t.regex(script, /dmsetup info "\$name" >\/dev\/null 2>&1 && exit 0/);
  t.regex(script, /dmsetup create "\$name" --table "0 \$\(blockdev --getsz "\$raw"\) linear \$raw 0"/);
});
