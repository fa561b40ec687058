/**
 * A fake target for the fault contract test: an in-memory two-node cluster whose machines, links,
 * packet filters, qdiscs, clocks, processes, disks and power devices hold state. It is exactly the
 * seam a fault may use ({@link FaultTarget}): the layout, a root shell, NIC and machine control,
 * and each node's power.
 *
 * The shell understands the commands the faults send, each by its pattern (listed in `SHELL`),
 * and nothing else: a script it does not know is recorded in `unknown` and answered with an exit
 * code of 127, so a fault that starts sending a new command fails the contract test until the fake
 * is taught it. A node that is off, paused or in a kernel panic answers nothing (a timeout).
 *
 * The cluster itself is modelled only as far as faults see it: a process killed on a node is
 * restarted by "the cluster", which records a failed action (what `crm_resource --cleanup`
 * clears); a DRBD backing disk unplugged leaves DRBD Diskless until `drbdadm attach`.
 *
 * `failAt` makes the n-th operation (1-based: a shell command, a NIC, machine or power request)
 * fail, for the contract's "heal after a failed or partial inject".
 */
import { ExecError, type ExecResult } from '../harness/core/exec.ts';
import { silentLogger } from '../harness/core/log.ts';
import type { ClusterPlan, NicRole, StorageKind } from '../harness/cluster/plan.ts';
import type { NodeShell } from '../harness/cluster/ssh.ts';
import type { PowerControlFaults } from '../harness/bmc/sim-files.ts';
import type { NodePower, NodePowerAction, NodePowerResult, PowerKnobs } from '../harness/power/power-device.ts';
import type { PowerEvent } from '../harness/power/power-log.ts';
import type { FaultMethod, FaultTarget, MachineControl, NicControl, TargetTraits } from '../harness/session/target.ts';

/** The processes every booted node runs (command lines), as the kill faults find them with `pgrep -f`. */
export const BOOT_PROCESSES = ['/usr/lib/postfix/sbin/master -w', '/usr/sbin/corosync -f', '/usr/lib/pacemaker/pacemaker-controld', '/usr/sbin/dovecot -F'];

export interface FakeNode {
  powered: boolean;
  paused: boolean;
  panicked: boolean;
  carrier: Record<NicRole, boolean>;
  /** NIC -> its root qdisc when one was added (`netem ...`). */
  qdisc: Record<string, string>;
  /** `iptables -S` lines of added rules. */
  rules: string[];
  /** The node's clock minus the host's, ms. */
  clockOffsetMs: number;
  processes: string[];
  /** The disk-full fault's fill file on the mounted store. */
  fill: boolean;
  /** Attached disks: target (vdb) -> source. */
  disks: Record<string, string>;
  drbdAttached: boolean;
  /**
   * The dm device under the store (DRBD's backing disk, or the path to the shared disk): its live table's target (`linear`, or a
   * fault's: `flakey error_writes`...), whether it is suspended, and whether a fault's kept copy of
   * the original table is in /run (tmpfs: a boot forgets it and makes the linear table anew).
   */
  dm?: { table: string; suspended: boolean; kept: boolean };
  /** Failed actions in the cluster's records. */
  failures: number;
  /** How often the node booted since the fake was made (a reset is a boot). */
  boots: number;
}

export interface FakeCluster {
  nodes: Record<string, FakeNode>;
  /** Where the mail store is mounted (the active node). */
  storeOn: string;
}

const NICS: Record<NicRole, string> = { client: 'eth1', ring0: 'eth2', ring1: 'eth3', replication: 'eth4' };
const ALL_METHODS: FaultMethod[] = ['hypervisor-nic', 'machine-pause', 'disk-hotplug', 'power-device-faults', 'own-kernel', 'own-clock', 'netem', 'store-dm'];

function bootedNode(disks: Record<string, string>, _storage: StorageKind): FakeNode {
  return {
    dm: { table: 'linear', suspended: false, kept: false },
    powered: true,
    paused: false,
    panicked: false,
    carrier: { client: true, ring0: true, ring1: true, replication: true },
    qdisc: {},
    rules: [],
    clockOffsetMs: 0,
    processes: [...BOOT_PROCESSES],
    fill: false,
    disks: { ...disks },
    drbdAttached: true,
    failures: 0,
    boots: 0,
  };
}

let planCounter = 0;

export class FakeTarget implements FaultTarget {
  readonly plan: ClusterPlan;
  readonly state: FakeCluster;
  readonly commands: Array<{ node: string; script: string }> = [];
  readonly unknown: Array<{ node: string; script: string }> = [];
  readonly power: FakePower[];
  readonly ssh: NodeShell;
  readonly nics: NicControl;
  readonly machines: MachineControl;
  readonly traits: TargetTraits;
  /** The operation (1-based) that fails, when set; every operation counts. */
  failAt?: number;
  operations = 0;

  constructor(readonly storage: StorageKind = 'drbd', methods: readonly FaultMethod[] = ALL_METHODS) {
    // Each fake its own cluster name: faults keep per-cluster state (a clock offset, an unplugged disk's source).
    this.plan = {
      name: `fake${++planCounter}`,
      storage,
      nodes: ['node1', 'node2'].map((name, i) => ({ name, index: i + 1, nic: { ...NICS, ...(storage === 'shared' ? { replication: '' } : {}) } })),
      virtualIp: '10.0.0.100',
      mailDomain: 'lab.test',
      mailService: 'postfix-dovecot',
      // As the lab: DRBD's backing disk, or each node's path to the shared disk, behind its dm device.
      storeDm: 'hachaos-store',
    };
    const disks = storage === 'drbd' ? { vdb: '/var/lib/libvirt/images/fake-vdb.qcow2' } : { vdb: '/var/lib/libvirt/images/fake-shared.raw' };
    this.state = { nodes: { node1: bootedNode(disks, storage), node2: bootedNode(disks, storage) }, storeOn: 'node1' };
    this.traits = { kind: 'lab', storage, methods, describe: `fake (${storage})` };
    this.power = this.plan.nodes.map((n) => new FakePower(this, n.name));
    this.ssh = {
      root: async (node, script, options) => {
        const result = this.run(node, script);
        if (!result.ok && options.reject !== false) throw new ExecError(result);
        return result;
      },
      stream: async () => ({ reason: 'the fake streams nothing', durationMs: 0 }),
      copy: async (node) => this.result(node, 'copy', true, ''),
      close: async () => undefined,
    };
    this.nics = {
      method: 'carrier cut (fake hypervisor)',
      cut: async (node, roles) => this.operate(() => roles.forEach((r) => (this.node(node).carrier[r] = false))),
      restore: async (node, roles) => this.operate(() => roles.forEach((r) => (this.node(node).carrier[r] = true))),
      leftovers: async (node, roles) => roles.filter((r) => !this.node(node).carrier[r]).map((r) => `${node}: ${r} NIC has no carrier`),
    };
    this.machines = {
      state: async (node) => {
        const n = this.node(node);
        return !n.powered ? 'shut off' : n.paused ? 'paused' : 'running';
      },
      pause: async (node) => this.operate(() => void (this.node(node).paused = true)),
      resume: async (node) => this.operate(() => void (this.node(node).paused = false)),
      disks: async (node) => ({ ...this.node(node).disks }),
      unplugDisk: async (node, target) =>
        this.operate(() => {
          const n = this.node(node);
          delete n.disks[target];
          if (storage === 'drbd' && target === 'vdb') n.drbdAttached = false; // DRBD detaches at its next I/O
        }),
      plugDisk: async (node, source, target) => this.operate(() => void (this.node(node).disks[target] = source)),
    };
  }

  node(name: string): FakeNode {
    const n = this.state.nodes[name];
    if (!n) throw new Error(`no node ${name} in the fake`);
    return n;
  }

  root(node: string, script: string, timeoutMs = 120_000): Promise<ExecResult> {
    return this.ssh.root(node, script, { timeoutMs });
  }

  powerOf(node: string): NodePower {
    const p = this.power.find((x) => x.node === node);
    if (!p) throw new Error(`no power device for ${node}`);
    return p;
  }

  /** A comparable copy of the cluster's state (the clock to the second: a step back lands within ms). */
  snapshot(): unknown {
    const copy = structuredClone(this.state) as FakeCluster;
    for (const n of Object.values(copy.nodes)) n.clockOffsetMs = Math.round(n.clockOffsetMs / 1000);
    return { cluster: copy, devices: this.power.map((p) => p.deviceState()) };
  }

  /** Counts an operation; throws when it is the one set to fail. */
  operate<T>(act: () => T): T {
    this.operations += 1;
    if (this.failAt === this.operations) throw new Error(`fake: operation ${this.operations} fails on purpose`);
    return act();
  }

  /** A node's power comes back: a new boot (nothing added at run time survives; a pulled cable stays pulled). */
  boot(name: string): void {
    const n = this.node(name);
    const fresh = bootedNode(n.disks, this.storage);
    this.state.nodes[name] = { ...fresh, carrier: n.carrier, drbdAttached: this.storage !== 'drbd' || Boolean(n.disks.vdb), failures: n.failures, boots: n.boots + 1 };
  }

  private answering(node: string): boolean {
    const n = this.node(node);
    return n.powered && !n.paused && !n.panicked;
  }

  private result(node: string, script: string, ok: boolean, stdout: string, exitCode = ok ? 0 : 1, stderr = ''): ExecResult {
    return { command: `fake-ssh ${script.split('\n')[0]!.slice(0, 40)}`, cwd: '/', node, durationMs: 1, exitCode, timedOut: false, cancelled: false, ok, reason: ok ? 'succeeded (exit code 0)' : `failed (exit code ${exitCode})`, stdout, stderr };
  }

  private run(node: string, script: string): ExecResult {
    this.commands.push({ node, script });
    const failing = (() => {
      try {
        this.operate(() => undefined);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    })();
    if (failing) return { ...this.result(node, script, false, '', 255, failing), reason: failing };
    if (!this.answering(node)) return { ...this.result(node, script, false, ''), exitCode: undefined, timedOut: true, reason: 'timed out after 15000 ms' };
    for (const [pattern, act] of SHELL) {
      const m = pattern.exec(script);
      if (m) {
        const out = act(this, node, m, script);
        return typeof out === 'string' ? this.result(node, script, true, out) : this.result(node, script, out.ok, out.stdout, out.exitCode, out.stderr);
      }
    }
    this.unknown.push({ node, script });
    return this.result(node, script, false, '', 127, 'the fake does not know this command');
  }
}

type Reply = string | { ok: boolean; stdout: string; exitCode?: number; stderr?: string };

/** Every command a fault sends, by its pattern; the first that matches answers. */
const SHELL: Array<[RegExp, (t: FakeTarget, node: string, m: RegExpExecArray, script: string) => Reply]> = [
  // The lab-wide audit (faults/audit.ts): links, qdiscs, packet filter.
  [
    /for n in (.+); do echo "@@link/,
    (t, node, m) => {
      const n = t.node(node);
      const roleOf = (nic: string) => (Object.entries(NICS).find(([, name]) => name === nic)?.[0] ?? 'client') as NicRole;
      const links = m[1]!.trim().split(/\s+/).map((nic, i) => `@@link ${i + 3}: ${nic}: <${n.carrier[roleOf(nic)] ? 'BROADCAST,MULTICAST,UP,LOWER_UP' : 'NO-CARRIER,BROADCAST,MULTICAST,UP'}> mtu 1500`);
      const qdiscs = Object.entries(n.qdisc).map(([nic, q]) => `@@qdisc qdisc ${q.split(' ')[0]} 8001: dev ${nic} root refcnt 2 ${q.split(' ').slice(1).join(' ')}`);
      return [...links, ...qdiscs, '@@iptables -P INPUT ACCEPT', ...n.rules.map((r) => `@@iptables ${r}`), ''].join('\n');
    },
  ],
  // kernel-panic-active: the SSH session dies with the kernel.
  [
    /echo c > \/proc\/sysrq-trigger/,
    (t, node) => {
      t.node(node).panicked = true;
      return { ok: false, stdout: '', exitCode: 255, stderr: 'Connection closed by remote host' };
    },
  ],
  [/^true$/, () => ''],
  // The clock: set (setClockScript), read (measureOffset).
  [
    /^date -u -s @([\d.]+) >\/dev\/null && date \+%s%N$/,
    (t, node, m) => {
      t.node(node).clockOffsetMs = Number(m[1]) * 1000 - Date.now();
      return `${BigInt(Math.round(Date.now() + t.node(node).clockOffsetMs)) * 1_000_000n}\n`;
    },
  ],
  [/^date \+%s%N$/, (t, node) => `${BigInt(Math.round(Date.now() + t.node(node).clockOffsetMs)) * 1_000_000n}\n`],
  // heartbeat-degraded-active: netem on, netem off.
  [
    /tc qdisc replace dev \S+ root netem/,
    (t, node, _m, script) => {
      for (const q of script.matchAll(/tc qdisc replace dev (\S+) root (netem [^&]+?)(?: &&|$)/g)) t.node(node).qdisc[q[1]!] = q[2]!.trim();
      return '';
    },
  ],
  [
    /tc qdisc del dev \S+ root/,
    (t, node, _m, script) => {
      for (const q of script.matchAll(/tc qdisc del dev (\S+) root/g)) delete t.node(node).qdisc[q[1]!];
      return '';
    },
  ],
  // one-ring-one-way-loss-active: a tagged DROP rule, and every copy of it deleted.
  [
    /^iptables -I INPUT -i (\S+) -m comment --comment (\S+) -j DROP$/,
    (t, node, m) => {
      t.node(node).rules.unshift(`-A INPUT -i ${m[1]} -m comment --comment ${m[2]} -j DROP`);
      return '';
    },
  ],
  [
    /^while iptables -D INPUT -i (\S+) -m comment --comment (\S+) -j DROP 2>\/dev\/null; do :; done; echo ok$/,
    (t, node, m) => {
      const n = t.node(node);
      n.rules = n.rules.filter((r) => r !== `-A INPUT -i ${m[1]} -m comment --comment ${m[2]} -j DROP`);
      return 'ok\n';
    },
  ],
  // The kill faults: pgrep by command line, ps, kill; the cluster restarts what died and records a failure.
  [
    /^pids=\$\(pgrep -f '\^([^']+)'/,
    (t, node, m) => {
      const n = t.node(node);
      const hit = n.processes.filter((p) => p.startsWith(m[1]!));
      if (!hit.length) return `no ${m[1]} found\n`;
      n.failures += 1;
      return `${hit.map((p, i) => `hit ${1000 + i} ${p}`).join('\n')}\nkilled\n`;
    },
  ],
  [
    /^pkill -KILL -x corosync$/,
    (t, node) => {
      t.node(node).failures += 1;
      return '';
    },
  ],
  [
    /^crm_resource --cleanup >\/dev\/null 2>&1 && echo cleaned$/,
    (t) => {
      for (const n of Object.values(t.state.nodes)) n.failures = 0;
      return 'cleaned\n';
    },
  ],
  // disk-full-active: fill the mounted store; remove the fill.
  [
    /fallocate -l "\$size" (\S+)/,
    (t, node) => {
      if (t.state.storeOn !== node) return { ok: false, stdout: '', exitCode: 3, stderr: 'the mail store /srv/mail is not mounted here' };
      t.node(node).fill = true;
      return 'filled 104857600 1048576\n';
    },
  ],
  [
    /^if \[ -e (\S+) \]; then rm -f \1 && echo removed; fi$/,
    (t, node) => {
      const n = t.node(node);
      if (!n.fill) return '';
      n.fill = false;
      return 'removed\n';
    },
  ],
  // disk-death-active: DRBD's disk state, and its attach once the disk is back
  // (the dm device over it made linear again first).
  [
    /^test -b \/dev\/vdb \|\| \{ echo 'no \/dev\/vdb yet'; exit 0; \};.*drbdadm attach/,
    (t, node, _m, script) => {
      const n = t.node(node);
      if (!n.disks.vdb) return "no /dev/vdb yet\n";
      if (n.dm && script.includes('dmsetup reload') && n.dm.table !== 'linear') n.dm.table = 'linear';
      if (n.dm && n.dm.table !== 'linear') return 'Diskless/UpToDate\n'; // attach fails on a disk that still errors
      n.drbdAttached = true;
      return 'UpToDate/UpToDate\n';
    },
  ],
  [/^test -e (\S+) && echo present \|\| echo absent$/, (t, node) => (t.node(node).fill ? 'present\n' : 'absent\n')],
  [/^drbdadm dstate \S+$/, (t, node) => (t.node(node).drbdAttached ? 'UpToDate/UpToDate\n' : 'Diskless/UpToDate\n')],
  // The disk faults' heal: DRBD attached again once the disk's own table is back (no disk to wait for).
  [
    /^\[ "\$\(drbdadm dstate \S+ \| cut -d\/ -f1\)" != Diskless \] \|\| drbdadm attach \S+ 2>&1; drbdadm dstate \S+$/,
    (t, node) => {
      const n = t.node(node);
      if (n.dm && n.dm.table !== 'linear') return 'Diskless/UpToDate\n'; // attach fails on a disk that still errors
      n.drbdAttached = true;
      return 'UpToDate/UpToDate\n';
    },
  ],
  // The disk faults (storage/device-mapper.ts): keep the table, load a fault's, suspend, restore, audit.
  [/^date \+%s$/, () => `${Math.floor(Date.now() / 1000)}\n`],
  [/^journalctl -k -o cat --since @\d+ \| grep -E /, () => ''],
  [
    /dmsetup table (\S+) > .*\necho @@saved; cat /,
    (t, node) => {
      const dm = t.node(node).dm;
      if (!dm) return { ok: false, stdout: '', exitCode: 1, stderr: 'Device does not exist.' };
      dm.kept = true;
      return '@@saved\n0 2097152 linear 252:16 0\n';
    },
  ],
  [
    /^printf '%s\\n' (.+) \| dmsetup reload \S+ && dmsetup resume \S+ && echo @@loaded$/,
    (t, node, m) => {
      const dm = t.node(node).dm!;
      const targets = [...m[1]!.matchAll(/'\d+ \d+ (\w+) \S+ \d+(?: 0 3600)?(?: \d+ (\w+))?/g)].map((x) => (x[1] === 'flakey' ? `flakey ${x[2] ?? 'error_reads'}` : x[1]!));
      dm.table = targets.filter((x) => x !== 'linear').join(',') || 'linear';
      // DRBD meets the error at its next write (the mail flows); a read error only when something reads there.
      if (dm.table.includes('error_writes')) t.node(node).drbdAttached = false;
      return '@@loaded\n';
    },
  ],
  [
    /^dd if=\/dev\/drbd0 of=\/dev\/null .* iflag=direct 2>&1; echo "@@rc \$\?"$/,
    (t, node) => {
      const n = t.node(node);
      if (n.dm?.table.includes('error_reads')) n.drbdAttached = false; // served from the peer, the disk dropped
      return '256+0 records in\n256+0 records out\n@@rc 0\n';
    },
  ],
  [
    /^dmsetup suspend \S+ && echo @@suspended$/,
    (t, node) => {
      t.node(node).dm!.suspended = true;
      return '@@suspended\n';
    },
  ],
  [
    /dmsetup reload \S+ \S+ && dmsetup resume \S+ && rm -f \S+ && echo @@restored/,
    (t, node) => {
      const dm = t.node(node).dm;
      if (!dm) return { ok: false, stdout: '', exitCode: 1, stderr: 'Device does not exist.' };
      const out: string[] = [];
      if (dm.kept) {
        dm.table = 'linear';
        dm.suspended = false;
        dm.kept = false;
        out.push('@@restored');
      }
      if (dm.suspended) {
        dm.suspended = false;
        out.push('@@resumed');
      }
      return `${[...out, '@@done'].join('\n')}\n`;
    },
  ],
  [
    /^echo @@table; dmsetup table \S+ 2>&1 \|\| true; echo @@info;/,
    (t, node) => {
      const dm = t.node(node).dm;
      if (!dm) return '@@table\nDevice does not exist.\n@@info\n@@saved\n';
      const table = dm.table === 'linear' ? '0 2097152 linear 252:16 0' : dm.table.split(',').map((x) => `0 2097152 ${x.split(' ')[0]} 252:16 0`).join('\n');
      return `@@table\n${table}\n@@info\nState:              ${dm.suspended ? 'SUSPENDED' : 'ACTIVE'}\n@@saved\n${dm.kept ? 'kept\n' : ''}`;
    },
  ],
  // disk-death-active's and store-path-loss-active's heals: an error table lets the dead disk go before it is plugged back.
  [
    /^if dmsetup info \S+ >\/dev\/null 2>&1 && \[ ! -b \/dev\/vdb \]; then .* error" && dmsetup resume \S+; fi; echo @@released$/,
    (t, node) => {
      const n = t.node(node);
      if (n.dm && !n.disks.vdb) n.dm.table = 'error';
      return '@@released\n';
    },
  ],
  // store-path-loss-active: is the shared disk visible again? Its dm device linear over it again.
  [
    /^test -b \/dev\/vdb \|\| \{ echo absent; exit 0; \}; (?:if dmsetup table \S+ .* linear \/dev\/vdb 0" && dmsetup resume \S+; fi; )?echo present$/,
    (t, node, _m, script) => {
      const n = t.node(node);
      if (!n.disks.vdb) return 'absent\n';
      if (n.dm && script.includes('dmsetup reload') && n.dm.table !== 'linear') n.dm.table = 'linear';
      return 'present\n';
    },
  ],
];

/** A node's power device in the fake: it can die, hang and turn slow or lying, as the lab's virtual ones. */
export class FakePower implements NodePower, PowerKnobs {
  readonly kind = 'ipmi' as const;
  readonly knobs: PowerKnobs = this;
  readonly slowDelayMs = 5000;
  private dead = false;
  private hung = false;
  private control: PowerControlFaults = { mode: 'normal', delayMs: 0 };
  private readonly log: PowerEvent[] = [];

  constructor(
    private readonly target: FakeTarget,
    readonly node: string,
  ) {}

  deviceState(): unknown {
    return { node: this.node, dead: this.dead, hung: this.hung, control: this.control };
  }
  describe(): string {
    return `fake BMC of ${this.node}`;
  }
  supplies(): string[] {
    return ['bmc'];
  }
  async power(action: NodePowerAction): Promise<NodePowerResult> {
    return this.target.operate(() => {
      if (this.dead || this.hung) return { action, acknowledged: false, state: 'unknown' as const, durationMs: 1, error: 'no answer' };
      const n = this.target.node(this.node);
      if (this.control.mode !== 'ignore') {
        if (action === 'off') n.powered = false;
        else if (action === 'on' && !n.powered) this.target.boot(this.node);
        else if (action === 'reset' || action === 'cycle') this.target.boot(this.node);
      }
      this.log.push({ node: this.node, time: Date.now(), request: 'power', value: action === 'off' ? '0' : '1', result: 'done' });
      return { action, acknowledged: true, state: this.target.node(this.node).powered ? ('on' as const) : ('off' as const), durationMs: 1 };
    });
  }
  async status(): Promise<'on' | 'off'> {
    if (this.dead || this.hung) throw new Error('no answer');
    return this.target.node(this.node).powered ? 'on' : 'off';
  }
  async supplyStatus(): Promise<Record<string, 'on' | 'off'>> {
    return { bmc: await this.status() };
  }
  async targetPower(): Promise<'on' | 'off'> {
    return this.target.node(this.node).powered ? 'on' : 'off';
  }
  powerLog(): PowerEvent[] {
    return [...this.log];
  }
  isRunning(): boolean {
    return !this.dead;
  }
  recordOutside(value: 'on' | 'off', by: string): void {
    this.log.push({ node: this.node, time: Date.now(), request: 'power', value: value === 'on' ? '1' : '0', result: 'done', by: `outside: ${by}` });
  }
  async kill(): Promise<void> {
    this.target.operate(() => (this.dead = true));
  }
  async revive(): Promise<void> {
    this.target.operate(() => (this.dead = false));
  }
  async hang(): Promise<void> {
    this.target.operate(() => (this.hung = true));
  }
  async resume(): Promise<void> {
    this.target.operate(() => (this.hung = false));
  }
  setPowerControl(faults: Partial<PowerControlFaults>): void {
    this.target.operate(() => (this.control = { mode: 'normal', delayMs: 0, ...faults }));
  }
  async heal(): Promise<void> {
    this.target.operate(() => {
      this.dead = false;
      this.hung = false;
      this.control = { mode: 'normal', delayMs: 0 };
    });
  }
  leftovers(): string[] {
    return [...(this.dead ? [`fake BMC of ${this.node} is dead`] : []), ...(this.hung ? [`fake BMC of ${this.node} is hung`] : []), ...(this.control.mode !== 'normal' || this.control.delayMs ? [`fake BMC of ${this.node} power control ${this.control.mode}, ${this.control.delayMs} ms`] : [])];
  }
}

export const fakeLog = silentLogger;
