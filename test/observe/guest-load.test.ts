/** Guest CPU accounting on literal /proc lines and accounting records. */
import test from 'ava';
import { accountGuestCpu, agentOf, groupOf, parseAcct, parseGuestSnapshot, parseProcStat, type AcctRecord } from '../../harness/observe/guest-load.ts';

/** A /proc/<pid>/stat line with the fields that matter; the rest zero. */
function stat(pid: number, comm: string, ppid: number, utime: number, stime: number, start = 100): string {
  const f = Array.from({ length: 50 }, () => '0');
  f[0] = 'S';
  f[1] = String(ppid);
  f[11] = String(utime);
  f[12] = String(stime);
  f[19] = String(start);
  return `${pid} (${comm}) ${f.join(' ')}`;
}

test('a /proc/<pid>/stat line, with a command name holding spaces and parentheses', (t) => {
  t.deepEqual(parseProcStat(stat(812, 'pacemaker-execd', 1, 30, 12, 900)), { pid: 812, ppid: 1, comm: 'pacemaker-execd', cpuTicks: 42, startTicks: 900 });
  t.like(parseProcStat(stat(9, 'a (b) c', 2, 1, 1)), { comm: 'a (b) c', ppid: 2 });
  t.is(parseProcStat('garbage'), undefined);
});

test('a snapshot: uptime, load, CPU totals and processes', (t) => {
  const text = ['@@uptime 1234.50', '@@loadavg 0.42 0.37 0.30 1/90 1723', '@@cpu 100 5 50 800 20 3 2 0 0 0', `@@proc ${stat(1, 'systemd', 0, 10, 10)}`, '@@end'].join('\n');
  const s = parseGuestSnapshot(text);
  t.is(s.uptimeS, 1234.5);
  t.is(s.load1, 0.42);
  t.is(s.totalTicks, 980);
  t.is(s.idleTicks, 820);
  t.is(s.procs.length, 1);
  t.throws(() => parseGuestSnapshot('@@end'), { message: /without \/proc\/uptime/ });
});

/** One acct_v3 record. */
function acctRecord(pid: number, ppid: number, comm: string, utimeTicks: number, stimeTicks: number): Buffer {
  const b = Buffer.alloc(64);
  b[1] = 3;
  b.writeUInt32LE(pid, 16);
  b.writeUInt32LE(ppid, 20);
  b.writeUInt32LE(1_795_000_000, 24);
  b.writeFloatLE(250, 28);
  b.writeUInt16LE(utimeTicks, 32);
  b.writeUInt16LE(stimeTicks, 34);
  b.write(comm, 48, 'latin1');
  return b;
}

test('process accounting records (acct_v3), comp_t with an exponent', (t) => {
  // comp_t 0x2001: mantissa 1, exponent 1 -> 8 ticks.
  const big = acctRecord(7, 6, 'postconf', 0, 0);
  big.writeUInt16LE(0x2001, 32);
  const records = parseAcct(Buffer.concat([acctRecord(4242, 812, 'IPaddr2', 30, 20), big, Buffer.alloc(10)]));
  t.deepEqual(records[0], { pid: 4242, ppid: 812, comm: 'IPaddr2', cpuS: 0.5, startedAt: 1_795_000_000, elapsedS: 2.5 });
  t.is(records[1]!.cpuS, 0.08);
  t.is(records.length, 2, 'a torn last record is ignored');
  const v2 = acctRecord(1, 1, 'x', 1, 1);
  v2[1] = 2;
  t.deepEqual(parseAcct(v2), [], 'only v3 records are read');
});

test('groups come from ancestry: cluster agents, SSH sessions, mail, kernel threads, the rest', (t) => {
  const parents = new Map([
    [1, { ppid: 0, comm: 'systemd' }],
    [2, { ppid: 0, comm: 'kthreadd' }],
    [30, { ppid: 2, comm: 'rcu_preempt' }],
    [500, { ppid: 1, comm: 'pacemakerd' }],
    [812, { ppid: 500, comm: 'pacemaker-execd' }],
    [4242, { ppid: 812, comm: 'IPaddr2' }],
    [4243, { ppid: 4242, comm: 'grep' }],
    [600, { ppid: 1, comm: 'sshd' }],
    [700, { ppid: 600, comm: 'sshd' }],
    [701, { ppid: 700, comm: 'bash' }],
    [702, { ppid: 701, comm: 'journalctl' }],
    [900, { ppid: 1, comm: 'master' }],
    [901, { ppid: 900, comm: 'smtpd' }],
    [950, { ppid: 1, comm: 'dovecot' }],
    [951, { ppid: 950, comm: 'imap' }],
    [300, { ppid: 1, comm: 'systemd-journal' }],
  ]);
  t.is(groupOf(4243, parents), 'cluster');
  t.is(groupOf(812, parents), 'cluster');
  t.is(groupOf(702, parents), 'harness');
  t.is(groupOf(600, parents), 'system', 'the listening sshd is the system; its sessions are the harness');
  t.is(groupOf(901, parents), 'mail');
  t.is(groupOf(951, parents), 'mail');
  t.is(groupOf(30, parents), 'kernel');
  t.is(groupOf(300, parents), 'system');
  t.is(agentOf(4243, parents), 'IPaddr2', "an agent's grep is the agent's work");
  t.is(agentOf(4242, parents), 'IPaddr2');
  t.is(agentOf(812, parents), undefined, 'a daemon is itself');
  t.is(agentOf(702, parents), undefined);
});

test('a window: live processes by their CPU since the first snapshot, exited ones by their record', (t) => {
  const before = parseGuestSnapshot(['@@uptime 1000', '@@loadavg 0.5 0.4 0.3', '@@cpu 1000 0 0 9000 0 0 0 0', `@@proc ${stat(1, 'systemd', 0, 5, 5)}`, `@@proc ${stat(500, 'corosync', 1, 100, 50, 10)}`, `@@proc ${stat(777, 'sleep', 1, 2, 0, 50)}`].join('\n'));
  const after = parseGuestSnapshot(['@@uptime 1010', '@@loadavg 0.9 0.5 0.3', '@@cpu 1300 0 0 9700 0 0 0 0', `@@proc ${stat(1, 'systemd', 0, 5, 5)}`, `@@proc ${stat(500, 'corosync', 1, 130, 70, 10)}`].join('\n'));
  const exited: AcctRecord[] = [
    { pid: 4242, ppid: 500, comm: 'IPaddr2', cpuS: 0.3, startedAt: 0, elapsedS: 1 },
    // alive in the first snapshot with 2 ticks used already: only the rest counts
    { pid: 777, ppid: 1, comm: 'sleep', cpuS: 0.05, startedAt: 0, elapsedS: 30 },
  ];
  const load = accountGuestCpu('node1', before, after, exited);
  t.is(load.windowS, 10);
  t.is(load.busyPercent, 30, '300 busy ticks of 1000');
  t.is(load.load1, 0.9);
  // 10 s of capacity: corosync 0.5 s + the agent 0.3 s = 8 %; the sleep's last 0.03 s = 0.3 %.
  t.deepEqual(load.groups, { cluster: 8, mail: 0, harness: 0, system: 0.3, kernel: 0 });
  t.deepEqual(
    load.top.map((c) => [c.comm, c.group, c.cpuS, c.percent]),
    [
      ['corosync', 'cluster', 0.5, 5],
      ['IPaddr2 (agent)', 'cluster', 0.3, 3],
      ['sleep', 'system', 0.03, 0.3],
    ],
  );
});
