/**
 * An existing cluster: two running machines the harness did not build, described by a target
 * file (target-file.ts). The harness reaches them over SSH, powers them through their own BMCs
 * (polled for the power log: it cannot see inside the firmware), and cuts NICs inside the node.
 * Nothing here calls a hypervisor; faults that need one are not applicable.
 *
 * Safety first, before any fault: the cluster's name in the CIB must be the target file's, the
 * SSH address of each node must be on none of the interfaces a fault may cut, a person must
 * confirm (or `--yes`), and a pre-flight must pass (nodes online, stonith enabled and every
 * device started, the store ready, no failed actions, clocks near the host's). The pre-flight
 * is recorded in each run's run.json.
 */
import { storeOf } from '../storage/storage.ts';
import { join } from 'node:path';

import type { Logger } from '../core/log.ts';
import { stateRoot, ensureStateDir } from '../core/paths.ts';
import { done, notYet, waitFor } from '../core/wait.ts';
import { removeControlSockets, SshRunner } from '../cluster/ssh.ts';
import { wedges, type ClusterStatus } from '../cluster/status.ts';
import { measureOffset } from '../observe/clock.ts';
import { PolledIpmiPower } from '../power/polled-ipmi-power.ts';
import { PolledPduPower } from '../power/polled-pdu-power.ts';
import { TwoLevelNodePower, type NodePower } from '../power/power-device.ts';
import { ApcPduClient } from '../power/apc-pdu-client.ts';
import type { Baseline } from '../calibrate/baseline.ts';
import { ClusterSession, FencingNotVerifiedError } from '../session/cluster-session.ts';
import { devicesWithoutIdentity } from '../power/fence-verify.ts';
import { inNodeNics } from '../session/in-node-nics.ts';
import { loadTargetFile, type ResolvedTarget } from '../cluster/target-file.ts';
import { type NicControl, type StartedTarget, type Target, type TargetTraits } from '../session/target.ts';
import { NIC_ROLES, type ClusterPlan } from '../cluster/plan.ts';

/** The script that says what the harness must know of a node before it touches it. */
export const IDENTITY_SCRIPT = [
  "echo \"@@cluster $(crm_attribute --type crm_config --name cluster-name --query --quiet 2>/dev/null || echo '?')\"",
  "echo \"@@stonith $(crm_attribute --type crm_config --name stonith-enabled --query --quiet 2>/dev/null || echo true)\"",
  'ip -o -4 addr show | awk \'{print "@@addr", $2, $4}\'',
].join('\n');

/** What {@link IDENTITY_SCRIPT} printed. Pure. */
export function parseIdentity(output: string): { cluster: string; stonithEnabled: boolean; addresses: Array<{ nic: string; address: string }> } {
  const cluster = /^@@cluster (.*)$/m.exec(output)?.[1]?.trim() ?? '?';
  const stonith = /^@@stonith (.*)$/m.exec(output)?.[1]?.trim() ?? 'true';
  const addresses = [...output.matchAll(/^@@addr (\S+) (\S+)$/gm)].map((m) => ({ nic: m[1]!, address: m[2]!.split('/')[0]! }));
  return { cluster, stonithEnabled: !/^(false|0|no|off)$/i.test(stonith), addresses };
}

/** The safety findings of one node: wrong cluster, SSH on a NIC a fault may cut, fencing off. Pure. */
export function safetyProblems(node: ResolvedTarget['nodes'][0], expectedCluster: string, identity: ReturnType<typeof parseIdentity>): string[] {
  const problems: string[] = [];
  if (identity.cluster !== expectedCluster) problems.push(`${node.name}: its CIB says cluster-name "${identity.cluster}", the target file "${expectedCluster}": refusing to touch a cluster of another name`);
  const sshNic = identity.addresses.find((a) => a.address === node.ssh.address)?.nic;
  const role = NIC_ROLES.find((r) => node.nics[r] && node.nics[r] === sshNic);
  if (role) problems.push(`${node.name}: the SSH address ${node.ssh.address} is on ${sshNic}, the ${role} interface: a ${role} fault would cut the harness off and its heal could not run; reach the node through a management address`);
  for (const r of NIC_ROLES) {
    const nic = node.nics[r];
    if (nic && !identity.addresses.some((a) => a.nic === nic)) problems.push(`${node.name}: no IPv4 address on ${nic} (the ${r} interface in the target file): is the interface name right?`);
  }
  if (!identity.stonithEnabled) problems.push(`${node.name}: stonith-enabled is false: without fencing no failover is safe; the harness does not certify such a cluster`);
  return problems;
}

/** The cluster's state before the first fault, in words: what must hold for faults to mean anything. Pure. */
export function preflightProblems(status: ClusterStatus, unmet: string[], offsetsMs: Record<string, number>, maxOffsetMs = 5000): string[] {
  const problems = [...unmet];
  if (status.pacemaker) problems.push(...wedges(status.pacemaker).map((w) => `${w.why} (fix it first: ${w.fix})`));
  for (const [node, offset] of Object.entries(offsetsMs)) if (Math.abs(offset) > maxOffsetMs) problems.push(`${node}'s clock is ${(offset / 1000).toFixed(1)} s off the host's (at most ${maxOffsetMs / 1000} s: the timeline could not order events)`);
  return problems;
}

/** Asks a person to go ahead with what `plan` says; resolves true to go on. */
export type Confirm = (plan: string) => Promise<boolean>;

/** Refused: the harness will not inject into this cluster. */
export class TargetRefusedError extends Error {
  constructor(readonly problems: string[]) {
    super(`refusing to inject faults into this cluster:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'TargetRefusedError';
  }
}

/** The methods of an existing cluster: none of the hypervisor's, nor a power device the harness could break. */
export function clusterTraits(target: Pick<ResolvedTarget, 'name' | 'storage' | 'storeDm'> & { nodes?: Array<{ outlets?: unknown }> }): TargetTraits {
  const power = target.nodes?.some((n) => n.outlets) ? 'real PDUs over SNMP' : 'real BMCs over IPMI';
  return { kind: 'cluster', storage: target.storage, methods: ['own-kernel', 'own-clock', 'netem', ...(target.storeDm ? (['store-dm'] as const) : [])], describe: `cluster ${target.name} (storage ${target.storage}, ${power})` };
}

export class ExistingCluster implements Target {
  readonly traits: TargetTraits;
  readonly log: Logger;
  private started?: StartedCluster;
  private confirmed = false;

  constructor(
    readonly target: ResolvedTarget,
    log: Logger,
    private readonly options: { confirm?: Confirm; yes?: boolean; verifyFencing?: boolean } = {},
  ) {
    this.traits = clusterTraits(target);
    this.log = log.child(`target:${target.name}`);
  }

  /** Each node was fenced once through the cluster and only it lost power (`--verify-fencing`), in this process. */
  private verifiedByFencing = false;

  static fromFile(file: string, log: Logger, options: { confirm?: Confirm; yes?: boolean; verifyFencing?: boolean } = {}): ExistingCluster {
    return new ExistingCluster(loadTargetFile(file), log, options);
  }

  get name(): string {
    return this.target.name;
  }
  get record(): { target: unknown } {
    return { target: this.target.spec };
  }
  get clusterReadyMs(): number {
    return this.target.clusterReadyS * 1000;
  }
  /** A real machine's CPU is not the harness's to judge: no overload verdict. */
  readonly vcpus = undefined;
  baseline(): { baseline?: Baseline; why?: string } {
    return { why: 'an existing cluster is held to the absolute SLO' };
  }

  /** What the harness will do, to which machine, in words (printed before the confirmation). */
  describePlan(): string {
    const lines = [`cluster ${this.target.name} (${this.target.file}): virtual IP ${this.target.virtualIp}, storage ${this.target.storage}`];
    for (const n of this.target.nodes) {
      const power = n.ipmi ? `BMC ${n.ipmi.address}:${n.ipmi.port} (user ${n.ipmi.username})` : `PDU outlets ${(n.outlets ?? []).map((o) => `${o.pdu}:${o.outlet}`).join(', ')}`;
      lines.push(`  ${n.name}: ssh ${n.ssh.user}@${n.ssh.address}:${n.ssh.port}; ${power}; NICs ${NIC_ROLES.filter((r) => n.nics[r]).map((r) => `${r} ${n.nics[r]}`).join(', ')}`);
    }
    lines.push('  the faults power the active node off and on through its power device, set its cluster links down inside the node, kill its processes, or panic its kernel (sysrq);');
    lines.push('  every fault is healed, mail is sent to and read from the accounts of the accounts file, and nothing is left installed.');
    return lines.join('\n');
  }

  async up(options: { signal?: AbortSignal } = {}): Promise<StartedTarget> {
    const started = (this.started ??= StartedCluster.connect(this.target, this.log));
    const problems: string[] = [];
    await Promise.all(
      this.target.nodes.map(async (node) => {
        const r = await started.ssh.root(node.name, IDENTITY_SCRIPT, { timeoutMs: 30_000, reject: false, log: this.log, phase: 'safety' });
        if (!r.ok) problems.push(`${node.name}: cannot run a command as root over SSH (${r.reason}${r.stderr ? `: ${r.stderr.trim().split('\n').at(-1)}` : ''})`);
        else problems.push(...safetyProblems(node, this.target.name, parseIdentity(r.stdout)));
      }),
    );
    if (problems.length) throw new TargetRefusedError(problems);
    if (!this.confirmed) {
      // What it will do to which machine, said before the first fault whether or not anyone is asked.
      this.log.info(`plan:\n${this.describePlan()}`);
      if (!this.options.yes) {
        if (!this.options.confirm) throw new TargetRefusedError([`not confirmed: give --yes to inject faults into cluster ${this.target.name} without asking`]);
        if (!(await this.options.confirm(this.describePlan()))) throw new TargetRefusedError(['not confirmed']);
      }
      this.confirmed = true;
    }
    started.startPolls();
    // Fencing verified before any fault: each node's own device logs in and (IPMI) reaches its own machine.
    let status;
    try {
      status = await started.waitReady(this.clusterReadyMs, options.signal, { verifyFencing: {} });
    } catch (error) {
      if (error instanceof FencingNotVerifiedError) throw new TargetRefusedError(error.verification.problems.map((p) => `pre-flight: fencing: ${p}`));
      throw error;
    }
    const offsets: Record<string, number> = {};
    for (const node of this.target.nodes) offsets[node.name] = (await measureOffset(started, node.name)).offsetMs;
    const found = preflightProblems(status, started.unmet(status), offsets);
    if (found.length) throw new TargetRefusedError(found.map((p) => `pre-flight: ${p}`));
    const unreadable = devicesWithoutIdentity(started.fencingVerification);
    if (unreadable.length && !this.options.verifyFencing && !this.verifiedByFencing) {
      this.log.warn(`pre-flight: ${unreadable.map((d) => d.device).join(', ')} cannot tell which machine they power (no identity to read): only fencing each node once proves it; give --verify-fencing to do that before the first fault`);
    }
    if (this.options.verifyFencing && !this.verifiedByFencing) {
      const fenced = await started.fenceEachNodeOnce(this.clusterReadyMs, options.signal);
      if (fenced.length) throw new TargetRefusedError(fenced.map((p) => `pre-flight: --verify-fencing: ${p}`));
      this.verifiedByFencing = true;
    }
    started.preflight = {
      at: new Date().toISOString(),
      cluster: this.target.name,
      nodesOnline: status.pacemaker?.nodes.filter((n) => n.online).map((n) => n.name) ?? [],
      stonithEnabled: true,
      stonithDevices: status.pacemaker?.resources.filter((r) => r.agent.startsWith('stonith:')).map((r) => `${r.id}:${r.role}`) ?? [],
      fencingVerified: started.fencingVerification,
      store: Object.fromEntries(started.plan.nodes.map((n) => [n.name, storeOf(started.plan).describeNode(status, n.name)])),
      failedActions: status.pacemaker?.failures.length ?? 0,
      clockOffsetsMs: offsets,
      power: status.power,
      nicFaults: started.nics.method,
    };
    this.log.info(`pre-flight passed: ${JSON.stringify(started.preflight)}`);
    return started;
  }

  /** Stops the power polls and closes the SSH connections (idempotent); the cluster itself runs on. */
  async release(): Promise<void> {
    await this.started?.stop();
  }
}

/** An existing cluster the harness is connected to. */
export class StartedCluster extends ClusterSession {
  readonly traits: TargetTraits;
  readonly plan: ClusterPlan;
  readonly accel = 'hardware' as const;
  readonly nics: NicControl;
  declare preflight?: Record<string, unknown>;

  private constructor(
    private readonly target: ResolvedTarget,
    readonly ssh: SshRunner,
    readonly power: NodePower[],
    /** The devices polled for their power logs (both levels' of a node fenced in two). */
    private readonly polled: Array<PolledIpmiPower | PolledPduPower>,
    readonly log: Logger,
  ) {
    super();
    this.traits = clusterTraits(target);
    this.plan = {
      name: target.name,
      storage: target.storage,
      ...(target.storeDm ? { storeDm: target.storeDm } : {}),
      virtualIp: target.virtualIp,
      mailDomain: target.mailDomain,
      mailService: target.mailService,
      nodes: target.nodes.map((n, i) => ({ name: n.name, index: i + 1, nic: n.nics })),
    };
    this.nics = inNodeNics(this.plan, ssh);
  }

  /** The state directory of a target: its ssh_config, pinned host keys and control sockets. */
  static dir(name: string): string {
    return join(stateRoot(), 'targets', name);
  }

  static connect(target: ResolvedTarget, log: Logger): StartedCluster {
    const dir = StartedCluster.dir(target.name);
    ensureStateDir(dir);
    const hosts = target.nodes.map((n) => ({ name: n.name, hostName: n.ssh.address, port: n.ssh.port, user: n.ssh.user, keyFile: n.ssh.key }));
    const ssh = SshRunner.write(join(dir, 'ssh_config'), hosts, target.nodes[0]!.ssh.key, dir, target.knownHosts);
    const pdus = new Map(
      target.pdus.map((p) => {
        // The passphrase goes in a 0600 client config in the target's own directory, never in argv.
        const confDir = join(dir, `pdu-${p.name}`);
        ApcPduClient.writeConf(confDir, p.username, p.password);
        return [p.name, new ApcPduClient({ name: p.name, address: p.address, port: p.port, username: p.username }, p.password, confDir, log)];
      }),
    );
    const polled: Array<PolledIpmiPower | PolledPduPower> = [];
    const power = target.nodes.map((n): NodePower => {
      const bmc = n.ipmi ? new PolledIpmiPower({ node: n.name, ...n.ipmi, log }) : undefined;
      const outlets = n.outlets?.length ? new PolledPduPower(n.name, n.outlets.map((o) => ({ pdu: pdus.get(o.pdu)!, outlet: o.outlet })), log) : undefined;
      polled.push(...[bmc, outlets].filter((d) => d !== undefined));
      // Both: two fencing levels, the BMC first.
      return bmc && outlets ? new TwoLevelNodePower(bmc, outlets) : (bmc ?? outlets)!;
    });
    return new StartedCluster(target, ssh, power, polled, log);
  }

  startPolls(): void {
    for (const p of this.polled) p.start();
  }

  async stop(): Promise<void> {
    for (const p of this.polled) p.stop();
    await Promise.all(this.target.nodes.map((n) => this.ssh.close(n.name)));
    removeControlSockets(StartedCluster.dir(this.target.name));
  }

  accounts(): Record<string, string> {
    return { ...this.target.accounts };
  }

  secretValues(): string[] {
    return [...this.target.nodes.flatMap((n) => (n.ipmi ? [n.ipmi.password] : [])), ...this.target.pdus.map((p) => p.password), ...Object.values(this.target.accounts)];
  }

  /** A machine its BMC reports off: nothing in the cluster would power it on. */
  protected async machineFindings(): Promise<string[]> {
    const found: string[] = [];
    for (const p of this.power) {
      // A fence's power-cycle may be under way: give the BMC a few seconds to say on.
      const state = await waitFor(`${p.node}'s power device to report power on`, async () => {
        try {
          const s = await p.status();
          return s === 'on' ? done(s) : notYet(s);
        } catch (error) {
          return notYet((error as Error).message);
        }
      }, { timeoutMs: 20_000, intervalMs: 2000 }).catch((e: unknown) => (e as Error).message);
      if (state !== 'on') found.push(`${p.node}: its power device does not report power on (${state}): nothing in the cluster would power it on`);
    }
    return found;
  }
}
