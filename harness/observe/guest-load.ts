/**
 * Where a guest's CPU goes. Two sources, read on each node and accounted on the host:
 *
 * - a snapshot of /proc: the guest's total CPU counters, its load average, and every live
 *   process's own CPU time (utime + stime), read with bash builtins only (the reading must not
 *   be the load it measures);
 * - BSD process accounting (the kernel writes one record per exited process into a file the
 *   harness turns on for a window): the short-lived processes a snapshot never sees, i.e. the
 *   resource agents Pacemaker runs for every monitor, the fence agents, and each command the
 *   harness runs over SSH.
 *
 * `accountGuestCpu` combines them into per-command CPU seconds over the window, grouped by who
 * the work is for (`cluster`, `mail`, `harness`, `system`, `kernel`) from each process's
 * ancestry. Pure: tested on literal /proc lines and accounting records.
 */

/** The accounting file on each node, while a window is open. */
export const ACCT_FILE = '/var/log/ha-chaos.pacct';

/**
 * Prints the snapshot: `@@uptime`, `@@loadavg`, `@@cpu` (the /proc/stat cpu line) and one
 * `@@proc` line per live process (the whole /proc/<pid>/stat line). Builtins only: no fork per
 * process. With `acct on|off` it also switches accounting (once per window).
 */
export function guestSnapshotScript(acct?: 'on' | 'off'): string {
  // acct(2) is syscall 163 on x86_64; perl-base is in every Debian system and starts in a tenth
  // of python3's time under emulation (python3 cost the guest ~1.4 s of CPU per switch).
  const toggle =
    acct === 'on'
      ? `: > ${ACCT_FILE}; perl -e 'syscall(163, $ARGV[0]) == 0 or exit 1' ${ACCT_FILE} || echo "@@acct-error"`
      : acct === 'off'
        ? `perl -e 'syscall(163, 0) == 0 or exit 1' || echo "@@acct-error"`
        : '';
  return [
    toggle,
    'read -r up _ < /proc/uptime; echo "@@uptime $up"',
    'read -r l < /proc/loadavg; echo "@@loadavg $l"',
    'while read -r cpu rest; do [ "$cpu" = cpu ] && { echo "@@cpu $rest"; break; }; done < /proc/stat',
    'for s in /proc/[0-9]*/stat; do read -r l < "$s" 2>/dev/null && echo "@@proc $l"; done',
    'echo "@@end"',
    '',
  ].join('\n');
}

/** One live process, from its /proc/<pid>/stat line. CPU in clock ticks. */
export interface ProcEntry {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime. */
  cpuTicks: number;
  /** Start time, ticks after boot (tells a reused pid from the same process). */
  startTicks: number;
}

/** A guest's snapshot. */
export interface GuestSnapshot {
  uptimeS: number;
  load1: number;
  load5: number;
  /** Sum of the /proc/stat cpu fields, and its idle + iowait part, in ticks. */
  totalTicks: number;
  idleTicks: number;
  procs: ProcEntry[];
  acctError?: boolean;
}

/** Parses one /proc/<pid>/stat line (the comm may hold spaces and parentheses). */
export function parseProcStat(line: string): ProcEntry | undefined {
  const open = line.indexOf(' (');
  const close = line.lastIndexOf(') ');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open));
  const fields = line.slice(close + 2).split(' ');
  // fields[0] is the state (field 3 of the line); utime/stime are fields 14/15, starttime 22.
  const at = (n: number) => Number(fields[n - 3]);
  if (!Number.isInteger(pid) || fields.length < 20) return undefined;
  return { pid, ppid: at(4), comm: line.slice(open + 2, close), cpuTicks: at(14) + at(15), startTicks: at(22) };
}

/** Parses the output of {@link guestSnapshotScript}. */
export function parseGuestSnapshot(text: string): GuestSnapshot {
  const snapshot: GuestSnapshot = { uptimeS: NaN, load1: NaN, load5: NaN, totalTicks: 0, idleTicks: 0, procs: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith('@@uptime ')) snapshot.uptimeS = Number(line.slice(9));
    else if (line.startsWith('@@loadavg ')) {
      const [l1, l5] = line.slice(10).split(' ');
      snapshot.load1 = Number(l1);
      snapshot.load5 = Number(l5);
    } else if (line.startsWith('@@cpu ')) {
      const f = line.slice(6).trim().split(/\s+/).map(Number);
      // user nice system idle iowait irq softirq steal (guest time is already in user)
      snapshot.totalTicks = f.slice(0, 8).reduce((a, b) => a + b, 0);
      snapshot.idleTicks = (f[3] ?? 0) + (f[4] ?? 0);
    } else if (line.startsWith('@@proc ')) {
      const p = parseProcStat(line.slice(7));
      if (p) snapshot.procs.push(p);
    } else if (line === '@@acct-error') snapshot.acctError = true;
  }
  if (!Number.isFinite(snapshot.uptimeS)) throw new Error('guest snapshot without /proc/uptime');
  return snapshot;
}

/** One exited process, from the kernel's accounting file (acct_v3). CPU in seconds. */
export interface AcctRecord {
  pid: number;
  ppid: number;
  comm: string;
  cpuS: number;
  /** When it started, seconds since the epoch (node clock). */
  startedAt: number;
  /** How long it lived, seconds. */
  elapsedS: number;
}

/** comp_t: 13-bit mantissa, 3-bit base-8 exponent, in AHZ ticks. */
function compT(v: number): number {
  return (v & 0x1fff) << (3 * (v >> 13));
}

/** Parses an acct_v3 file (64-byte records, Linux). `ahz` is the kernel's AHZ (100 on x86). */
export function parseAcct(data: Buffer, ahz = 100): AcctRecord[] {
  const records: AcctRecord[] = [];
  for (let off = 0; off + 64 <= data.length; off += 64) {
    if (data[off + 1] !== 3) continue; // ac_version: only v3 is written by Linux
    const ticks = compT(data.readUInt16LE(off + 32)) + compT(data.readUInt16LE(off + 34));
    const comm = data.subarray(off + 48, off + 64).toString('latin1').replace(/\0.*$/s, '');
    records.push({
      pid: data.readUInt32LE(off + 16),
      ppid: data.readUInt32LE(off + 20),
      comm,
      cpuS: ticks / ahz,
      startedAt: data.readUInt32LE(off + 24),
      elapsedS: data.readFloatLE(off + 28) / ahz,
    });
  }
  return records;
}

/** Who the work is for. */
export type LoadGroup = 'cluster' | 'mail' | 'harness' | 'system' | 'kernel';

const CLUSTER_ROOTS = /^(corosync|pacemakerd|pacemaker-.*)$/;
const MAIL_ROOTS = /^(master|dovecot)$/;

/**
 * The group of a process from its ancestry: under a Pacemaker daemon or corosync it is the
 * cluster's (resource and fence agents), under an SSH session the harness's (watcher streams,
 * status reads, log collection, the faults' commands), under Postfix's master or Dovecot the mail
 * service's (which serves the harness's workload and the monitors' logins), a kernel thread the
 * kernel's; anything else (journald, systemd, networkd) the system's.
 */
export function groupOf(pid: number, parents: ReadonlyMap<number, { ppid: number; comm: string }>): LoadGroup {
  let sessionSshd = false;
  for (let p = parents.get(pid), hops = 0; p && hops < 64; p = parents.get(p.ppid), hops++) {
    if (p.ppid === 2 || p.comm === 'kthreadd') return 'kernel';
    if (CLUSTER_ROOTS.test(p.comm)) return 'cluster';
    if (MAIL_ROOTS.test(p.comm) && (parents.get(p.ppid)?.comm ?? 'systemd') === 'systemd') return 'mail';
    if (p.comm === 'sshd' && p.ppid !== 1) sessionSshd = true;
  }
  return sessionSshd ? 'harness' : 'system';
}

/**
 * The cluster work a process does on behalf of: the resource or fence agent it runs under (the
 * ancestor whose parent is a cluster daemon), so an agent's grep, sed and crm_attribute count as
 * that agent's. Undefined outside the cluster's tree, and for the daemons themselves.
 */
export function agentOf(pid: number, parents: ReadonlyMap<number, { ppid: number; comm: string }>): string | undefined {
  for (let p = parents.get(pid), hops = 0; p && hops < 64; p = parents.get(p.ppid), hops++) {
    const parent = parents.get(p.ppid);
    if (CLUSTER_ROOTS.test(p.comm)) return undefined;
    if (parent && CLUSTER_ROOTS.test(parent.comm)) return p.comm;
  }
  return undefined;
}

/** A command's share of the guest's CPU over a window. */
export interface CommandLoad {
  /** The command, or for the cluster's agents the agent (with everything it ran). */
  comm: string;
  group: LoadGroup;
  cpuS: number;
  /** Percent of one guest's total CPU capacity over the window (all vCPUs). */
  percent: number;
  /** Processes seen (live, or exited during the window). */
  processes: number;
}

/** A guest's CPU over a window, accounted. */
export interface GuestLoad {
  node: string;
  windowS: number;
  /** The guest's busy share of its CPU capacity (all vCPUs), percent. */
  busyPercent: number;
  load1: number;
  groups: Record<LoadGroup, number>;
  /** The top commands by CPU. */
  top: CommandLoad[];
  /** Accounting could not be switched on: short-lived processes are missing. */
  partial?: string;
}

const round = (n: number, d = 1) => Number(n.toFixed(d));

/**
 * Accounts a window from two snapshots and the accounting records written in between. Live
 * processes count with their CPU since the first snapshot; exited ones with the CPU of their
 * record (less what they had used by the first snapshot, if they were alive then).
 */
export function accountGuestCpu(node: string, before: GuestSnapshot, after: GuestSnapshot, exited: AcctRecord[], options: { clkTck?: number; top?: number } = {}): GuestLoad {
  const hz = options.clkTck ?? 100;
  const windowS = Math.max(0.001, after.uptimeS - before.uptimeS);
  const capacityS = Math.max(0.001, (after.totalTicks - before.totalTicks) / hz);
  const busyS = Math.max(0, capacityS - (after.idleTicks - before.idleTicks) / hz);
  const key = (p: { pid: number; startTicks: number }) => `${p.pid}@${p.startTicks}`;
  const earlier = new Map(before.procs.map((p) => [key(p), p]));
  const earlierByPid = new Map(before.procs.map((p) => [p.pid, p]));
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const p of [...before.procs, ...exited, ...after.procs]) parents.set(p.pid, { ppid: p.ppid, comm: p.comm });

  const usage: { pid: number; comm: string; cpuS: number }[] = [];
  for (const p of after.procs) {
    const was = earlier.get(key(p));
    usage.push({ pid: p.pid, comm: p.comm, cpuS: (p.cpuTicks - (was?.cpuTicks ?? 0)) / hz });
  }
  const alive = new Set(after.procs.map(key));
  for (const r of exited) {
    const was = earlierByPid.get(r.pid);
    const counted = was && was.comm === r.comm && !alive.has(key(was)) ? was.cpuTicks / hz : 0;
    usage.push({ pid: r.pid, comm: r.comm, cpuS: Math.max(0, r.cpuS - counted) });
  }

  const groups: Record<LoadGroup, number> = { cluster: 0, mail: 0, harness: 0, system: 0, kernel: 0 };
  const byCommand = new Map<string, CommandLoad>();
  for (const u of usage) {
    if (u.cpuS <= 0) continue;
    const group = groupOf(u.pid, parents);
    groups[group] += u.cpuS;
    const agent = group === 'cluster' ? agentOf(u.pid, parents) : undefined;
    const name = agent ? `${agent} (agent)` : u.comm;
    const id = `${group}/${name}`;
    const c = byCommand.get(id) ?? { comm: name, group, cpuS: 0, percent: 0, processes: 0 };
    c.cpuS += u.cpuS;
    c.processes += 1;
    byCommand.set(id, c);
  }
  const pct = (s: number) => round((100 * s) / capacityS);
  const top = [...byCommand.values()]
    .sort((a, b) => b.cpuS - a.cpuS)
    .slice(0, options.top ?? 12)
    .map((c) => ({ ...c, cpuS: round(c.cpuS, 2), percent: pct(c.cpuS) }));
  return {
    node,
    windowS: round(windowS),
    busyPercent: pct(busyS),
    load1: after.load1,
    groups: Object.fromEntries(Object.entries(groups).map(([g, s]) => [g, pct(s)])) as Record<LoadGroup, number>,
    top,
    ...(after.acctError || before.acctError ? { partial: 'process accounting could not be switched on: short-lived processes are not counted' } : {}),
  };
}

/** What the node-side reading needs: a way to run a script as root on a node. */
export interface NodeShell {
  root(node: string, script: string, options: { timeoutMs: number; reject: false; phase?: string }): Promise<{ ok: boolean; stdout: string; reason?: string }>;
}

/**
 * A window of guest CPU accounting on every node: `open` takes the first snapshot and switches
 * process accounting on; `close` takes the second, switches it off, reads the records and
 * accounts the window. A node that cannot be read is reported, never fatal.
 */
export class GuestCpuWindow {
  private readonly before = new Map<string, GuestSnapshot>();

  constructor(
    private readonly shell: NodeShell,
    private readonly nodes: string[],
  ) {}

  async open(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        const r = await this.shell.root(node, guestSnapshotScript('on'), { timeoutMs: 30_000, reject: false, phase: 'load' });
        if (r.ok) this.before.set(node, parseGuestSnapshot(r.stdout));
      }),
    );
  }

  async close(): Promise<(GuestLoad | { node: string; error: string })[]> {
    return Promise.all(
      this.nodes.map(async (node) => {
        const start = this.before.get(node);
        if (!start) return { node, error: 'no first snapshot (node unreachable when the window opened)' };
        const script = `${guestSnapshotScript('off')}echo "@@acct $(base64 -w0 ${ACCT_FILE} 2>/dev/null)"; rm -f ${ACCT_FILE}\n`;
        const r = await this.shell.root(node, script, { timeoutMs: 60_000, reject: false, phase: 'load' });
        if (!r.ok) return { node, error: `unreachable: ${r.reason ?? 'ssh failed'}` };
        const end = parseGuestSnapshot(r.stdout);
        if (end.uptimeS < start.uptimeS) return { node, error: 'the node rebooted during the window' };
        const acct = /^@@acct (.*)$/m.exec(r.stdout)?.[1] ?? '';
        return accountGuestCpu(node, start, end, parseAcct(Buffer.from(acct, 'base64')));
      }),
    );
  }
}

/** A guest's load account in a few lines, for a person. */
export function describeGuestLoad(load: GuestLoad | { node: string; error: string }): string {
  if ('error' in load) return `${load.node}: ${load.error}`;
  const groups = Object.entries(load.groups)
    .filter(([, v]) => v > 0)
    .map(([g, v]) => `${g} ${v}%`)
    .join(', ');
  return [
    `${load.node}: busy ${load.busyPercent}% over ${load.windowS} s, load ${load.load1} (${groups})${load.partial ? ` [${load.partial}]` : ''}`,
    ...load.top.map((c) => `    ${String(c.percent).padStart(5)}%  ${c.cpuS.toFixed(2).padStart(7)} s  ${c.group.padEnd(8)} ${c.comm}${c.processes > 1 ? ` (x${c.processes})` : ''}`),
  ].join('\n');
}
