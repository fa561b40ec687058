import test from 'ava';
import { applyEvent, toSample, toSamples, WatchParser, watchScript, type WatchEvent } from '../../harness/observe/watcher.ts';
import { drbdStore } from '../../harness/storage/drbd.ts';
import { sharedStore } from '../../harness/storage/shared.ts';

const VIP = '10.213.10.100';

function parseAll(lines: string[]): WatchEvent[] {
  const parser = new WatchParser(VIP, drbdStore.watch());
  return lines.map((l) => parser.push(l)).filter((e): e is WatchEvent => e !== undefined);
}

test('a stream opens with a snapshot of /proc/drbd and the address count', (t) => {
  const events = parseAll([
    '@@snapshot 1795608900.250000000 vip=1',
    '@@proc version: 8.4.11 (api:1/proto:86-101)',
    '@@proc  0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----',
    '@@end-snapshot',
  ]);
  t.deepEqual(events, [{ kind: 'snapshot', time: 1795608900250, holdsVip: true, drbdRole: 'Primary', drbdDisk: 'UpToDate' }]);
  const down = parseAll(['@@snapshot 1795608900.000 vip=0', '@@proc version: 8.4.11 (api:1/proto:86-101)', '@@end-snapshot']);
  t.deepEqual(down, [{ kind: 'snapshot', time: 1795608900000, holdsVip: false, drbdRole: 'Unconfigured', drbdDisk: 'Diskless' }]);
});

test('kernel lines give role and disk changes; the peer role is not ours', (t) => {
  const events = parseAll([
    '1795608929.714342 node2 kernel: block drbd0: role( Secondary -> Primary ) ',
    '1795608919.435250 node2 kernel: drbd mail: peer( Primary -> Unknown ) conn( Connected -> NetworkFailure ) pdsk( UpToDate -> DUnknown ) ',
    '1795608848.367761 node2 kernel: block drbd0: peer( Unknown -> Secondary ) conn( WFReportParams -> Connected ) disk( Consistent -> UpToDate ) pdsk( DUnknown -> UpToDate ) ',
    '1795608850.000001 node2 kernel: e1000: some other driver line',
  ]);
  t.deepEqual(events, [
    { kind: 'drbd', time: 1795608929714.342, role: 'Primary' },
    { kind: 'drbd', time: 1795608848367.761, disk: 'UpToDate' },
  ]);
});

test('ip monitor lines give the virtual IP coming and going; other addresses are ignored', (t) => {
  const events = parseAll([
    '[2026-11-25T13:50:01.123456] 3: eth1    inet 10.213.10.100/24 scope global secondary eth1\\       valid_lft forever preferred_lft forever',
    '[2026-11-25T13:50:09.500000] Deleted 3: eth1    inet 10.213.10.100/24 scope global secondary eth1\\       valid_lft forever preferred_lft forever',
    '[2026-11-25T13:50:10.000000] 3: eth1    inet 10.213.10.11/24 scope global eth1\\       valid_lft forever preferred_lft forever',
  ]);
  t.deepEqual(events, [
    { kind: 'vip', time: Date.parse('2026-11-25T13:50:01.123Z') + 0.456, holdsVip: true },
    { kind: 'vip', time: Date.parse('2026-11-25T13:50:09.500Z'), holdsVip: false },
  ]);
});

test('events fold into whole states on the host clock; a snapshot replaces the state', (t) => {
  const events: WatchEvent[] = [
    { kind: 'snapshot', time: 10_000, holdsVip: false, drbdRole: 'Secondary', drbdDisk: 'UpToDate' },
    { kind: 'drbd', time: 11_000, role: 'Primary' },
    { kind: 'vip', time: 12_000, holdsVip: true },
  ];
  const samples = toSamples('node2', events, { node: 'node2', offsetMs: 500, uncertaintyMs: 3 });
  t.deepEqual(samples.map((s) => [s.time, s.source, s.drbdRole, s.drbdDisk, s.holdsVip]), [
    [9500, 'snapshot', 'Secondary', 'UpToDate', false],
    [10_500, 'drbd', 'Primary', 'UpToDate', false],
    [11_500, 'vip', 'Primary', 'UpToDate', true],
  ]);
  t.deepEqual(applyEvent({ drbdRole: 'Primary', holdsVip: true }, { kind: 'snapshot', time: 0, holdsVip: false }), { drbdRole: undefined, drbdDisk: undefined, holdsVip: false });
  t.deepEqual(applyEvent({ drbdRole: 'Unconfigured', drbdDisk: 'Diskless', holdsVip: false }, { kind: 'drbd', time: 0, disk: 'Attaching' }), { drbdRole: 'Secondary', drbdDisk: 'Attaching', holdsVip: false }, 'an attached device is Secondary');
  t.deepEqual(applyEvent({ drbdRole: 'Primary', drbdDisk: 'UpToDate' }, { kind: 'drbd', time: 0, disk: 'Outdated' }), { drbdRole: 'Primary', drbdDisk: 'Outdated' });
});

test('an event stamped after its receipt (a node clock stepped forward) is placed at the receipt', (t) => {
  const offset = { node: 'node1', offsetMs: 200, uncertaintyMs: 3 };
  const jumped = toSample('node1', { holdsVip: true }, { kind: 'vip', time: 600_000 + 50_200, holdsVip: true }, offset, 50_100);
  t.is(jumped.time, 50_100);
  t.is(toSample('node1', { holdsVip: true }, { kind: 'vip', time: 50_200, holdsVip: true }, offset, 50_100).time, 50_000, 'a sane stamp is kept');
});

test('the node script opens the streams before its snapshot and ends them on EOF; what it streams about the store comes from the storage seam', async (t) => {
  const { drbdStore } = await import('../../harness/storage/drbd.ts');
  const { sharedStore } = await import('../../harness/storage/shared.ts');
  const script = watchScript(VIP, drbdStore.watch());
  t.true(script.indexOf('journalctl -k -f') < script.indexOf('@@snapshot'));
  t.true(script.indexOf('monitor address') < script.indexOf('@@snapshot'));
  t.true(script.indexOf("/proc/drbd") > script.indexOf('@@snapshot'));
  t.regex(script, /read -r _ \|\| true\nkill \$j 2>\/dev\/null\nkill \$i \$w 2>\/dev\/null\n\}\n$/);
  t.true(script.startsWith('{\n'), 'one brace group: bash parses it whole before the read takes stdin');
  t.regex(script, / 10\.213\.10\.100\//);
  const shared = watchScript(VIP, sharedStore.watch());
  t.false(shared.includes('journalctl'));
  t.true(shared.indexOf('stdbuf -oL findmnt --poll -n -r -o ACTION --mountpoint /srv/mail') < shared.indexOf('@@snapshot'));
  t.regex(script, /stdbuf -oL ip -ts -o -4 monitor address/, 'line-buffered on a pipe');
  t.true(shared.indexOf('@@mounted') > shared.indexOf('@@snapshot') && shared.indexOf('@@mounted') < shared.indexOf('@@end-snapshot'));
  t.regex(shared, /read -r _ \|\| true\npkill -P \$m/);
});

test('shared store: mount and unmount events and the snapshot\'s mount state become the node\'s storeMounted', (t) => {
  const parser = new WatchParser(VIP, sharedStore.watch());
  t.is(parser.push('@@snapshot 1795608929.100000000 vip=0'), undefined);
  t.is(parser.push('@@mounted 0'), undefined);
  const snap = parser.push('@@end-snapshot');
  t.deepEqual(snap, { kind: 'snapshot', time: 1795608929100, holdsVip: false, storeMounted: false });
  const up = parser.push('@@mount 1795608940.250000 mount');
  const down = parser.push('@@mount 1795608950.500000 umount');
  t.deepEqual(up, { kind: 'mount', time: 1795608940250, mounted: true });
  t.deepEqual(down, { kind: 'mount', time: 1795608950500, mounted: false });
  const offset = { node: 'node2', offsetMs: 250, uncertaintyMs: 2 };
  const samples = toSamples('node2', [snap!, up!, down!], offset);
  t.deepEqual(
    samples.map((s) => [s.time, s.source, s.storeMounted]),
    [
      [1795608928850, 'snapshot', false],
      [1795608940000, 'mount', true],
      [1795608950250, 'mount', false],
    ],
  );
  t.is(samples[1]!.drbdRole, undefined, 'no DRBD state is made up for a shared store');
});

test('load reports: parsed from the stream, kept out of the node state, busy share over the gap', async (t) => {
  const { WatchParser, toLoadSamples, toSamples } = await import('../../harness/observe/watcher.ts');
  const parser = new WatchParser('10.213.10.100', sharedStore.watch());
  const a = parser.push('@@load 1795608929.500000 0.42 1000 10000');
  const b = parser.push('@@load 1795608934.500000 0.61 1250 10500');
  t.deepEqual(a, { kind: 'load', time: 1795608929500, load1: 0.42, busyTicks: 1000, totalTicks: 10000 });
  const offset = { node: 'node1', offsetMs: 500, uncertaintyMs: 1 };
  t.deepEqual(toLoadSamples('node1', [a!, b!], offset), [
    { node: 'node1', time: 1795608929000, load1: 0.42 },
    { node: 'node1', time: 1795608934000, load1: 0.61, busyPercent: 50 },
  ]);
  t.deepEqual(toSamples('node1', [a!, b!], offset), [], 'a load report is not a state change');
});

test('a stream line that arrives while a snapshot is printed is still an event; the snapshot keeps only its own lines', (t) => {
  const parser = new WatchParser(VIP, drbdStore.watch());
  t.is(parser.push('@@snapshot 1795608929.100000000 vip=1'), undefined);
  t.is(parser.push('@@proc  0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----'), undefined);
  t.deepEqual(parser.push('1795608929.200000 node1 kernel: block drbd0: role( Primary -> Secondary )'), { kind: 'drbd', time: 1795608929200, role: 'Secondary' });
  t.deepEqual(parser.push('@@end-snapshot'), { kind: 'snapshot', time: 1795608929100, holdsVip: true, drbdRole: 'Primary', drbdDisk: 'UpToDate' });
  // A DRBD store's parser reads no mount lines; a shared store's none of DRBD's.
  t.is(parser.push('@@mount 1795608940.250000 mount'), undefined);
  t.is(new WatchParser(VIP, sharedStore.watch()).push('1795608929.200000 node1 kernel: block drbd0: role( Primary -> Secondary )'), undefined);
});
