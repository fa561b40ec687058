/**
 * The container lane: the lab's cluster in two containers on this host, at native speed, behind
 * the same seams as the VM lab. Each node is a container of the node image (systemd as PID 1, the
 * same corosync, Pacemaker, fence agents, resource agents, Postfix and Dovecot as the lab's box),
 * started through testcontainers, on five docker networks laid out exactly like the lab's
 * (management, client, two rings, replication: the same addresses). The store is the shared-store
 * architecture: a loop device over an image file on the host, passed into both containers as
 * /dev/vdb, ext4 mounted by Pacemaker on one node at a time. Each node is fenced through its own
 * virtual BMC (ipmi_sim) by the unmodified fence_ipmilan inside the cluster; the BMC's power target
 * is the node's container (off: killed; on: started again).
 *
 * The provisioning, the bootstrap, the CIB, readiness and convergence are the lab's own
 * (StartedLab, with the lane's controls): the lane differs only in what makes and holds the
 * machines. What it does instead of a fault the lab does with the hypervisor is written into
 * every run's environment ({@link LANE_EQUIVALENTS}); what it cannot do honestly is not
 * applicable ({@link laneTraits}).
 *
 * Lifecycle: the containers are disposables of one process. `up()` makes a new lane (removing a
 * leftover of a crashed run first) or, later in the same process, re-attaches to it; `down()`
 * removes every container, network, BMC, loop device and file it made. Everything carries the
 * labels `io.ha-chaos.lane=<name>` and `io.ha-chaos.pid=<pid>`: {@link reapLanes} removes what a
 * dead process left.
 */
import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { GenericContainer, getContainerRuntimeClient, Wait, waitForContainer, BoundPorts, type StartedTestContainer, type WaitStrategy } from 'testcontainers';
import { isAlive, run } from '../core/exec.ts';
import { fileSink, type Logger } from '../core/log.ts';
import { REPO_ROOT, stateRoot, ensureStateDir } from '../core/paths.ts';
import { withProgress } from '../core/progress.ts';
import { parseBmcConfig } from '../bmc/bmc-config.ts';
import { stopAllBmcs, VirtualBmc } from '../bmc/virtual-bmc.ts';
import { fenceDeviceSpecs } from '../power/fence-resources.ts';
import { BmcNodePower, type NodePower } from '../power/power-device.ts';
import { loadLabConfig, NIC_ORDER, type LabConfig, type LabPlan, type LabSecrets, type NetworkRole } from '../cluster/lab-config.ts';
import { planLab } from '../provision/lab-plan.ts';
import { labSecrets } from '../provision/lab-secrets.ts';
import { renderHosts } from '../provision/cluster-files.ts';
import { StartedBuiltCluster, type BuiltClusterOwner } from '../provision/built-cluster.ts';
import type { NodeShell } from '../cluster/ssh.ts';
import type { MachineControl, NicControl, Target, TargetTraits } from '../session/target.ts';
import { docker, ensureDockerd, stopOurDockerd } from './docker-host.ts';
import { ensureImage, LANE_LABEL } from './node-image.ts';
import { containerOf, DockerShell, laneMachines, laneNics, laneTraits, LANE_EQUIVALENTS } from './lane-machines.ts';
import { writePrivateFile } from '../core/host-files.ts';
import { CRM_MON_XML } from '../cluster/status.ts';

export const DEFAULT_LANE_CONFIG = join(REPO_ROOT, 'containers/lane.json');
/** The process that owns a lane's objects (the reaper removes a dead one's). */
export const PID_LABEL = 'io.ha-chaos.pid';
const SESSION_LABEL = 'io.ha-chaos.session';

// testcontainers' own reaper (Ryuk) is an image pulled from a registry: none is reachable here,
// and the lane reaps its own leftovers by label instead.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
// dockerd runs without its default bridge (see docker-host.ts): testcontainers would look up the host
// through that bridge's gateway. No port is published; the host reaches the containers on the lane's bridges.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

/** What `down` removed. */
export interface LaneDownReport {
  containers: string[];
  networks: string[];
  bmcs: string[];
  loopDevices: string[];
  stateDir: boolean;
}

/** How long each part of a bring-up took, for the benchmark and the log (seconds). */
export interface LaneTimings {
  image: { built: boolean; seconds: number };
  containers?: number;
  membership?: number;
  bootstrap?: number;
  ready: number;
}

/**
 * A testcontainers container for one node: a fixed address on the management network, the
 * lab's other networks connected (with their fixed addresses) between create and start, so the
 * node boots with every NIC in the lab's order, and the shared disk as a device.
 */
class NodeContainer extends GenericContainer {
  constructor(
    image: string,
    private readonly networks: Array<{ name: string; ip: string }>,
    device: { host: string; container: string },
    private readonly log: Logger,
  ) {
    super(image);
    const [first] = networks;
    this.withNetworkMode(first!.name);
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [first!.name]: { IPAMConfig: { IPv4Address: first!.ip } } } };
    this.hostConfig.Devices = [{ PathOnHost: device.host, PathInContainer: device.container, CgroupPermissions: 'rwm' }];

  }

  protected override async containerCreated(containerId: string): Promise<void> {
    for (const net of this.networks.slice(1)) await docker(['network', 'connect', '--ip', net.ip, net.name, containerId], { log: this.log, phase: 'lane up' });
  }
}

/** Runs one testcontainers wait strategy against a started container (bounded by the strategy's startup timeout). */
async function waitOn(container: StartedTestContainer, strategy: WaitStrategy): Promise<void> {
  const client = await getContainerRuntimeClient();
  await waitForContainer(client, client.container.getById(container.getId()), strategy, new BoundPorts());
}

/** The lane's objects are named like the lab's libvirt objects: `hachaos-<name>-<role|node>`. */
function networkName(plan: LabPlan, role: NetworkRole): string {
  return plan.networks.find((n) => n.role === role)!.libvirtName;
}

/** A Linux bridge name (at most 15 bytes) for a lane network: hc<second octet>-<role>. */
export function bridgeName(plan: LabPlan, role: NetworkRole): string {
  const short: Record<NetworkRole, string> = { management: 'mgmt', client: 'client', ring0: 'ring0', ring1: 'ring1', replication: 'repl' };
  return `hc${plan.config.network.prefix.split('.')[1]}-${short[role]}`;
}

export class ContainerLane implements Target, BuiltClusterOwner {
  readonly plan: LabPlan;
  readonly dir: string;
  /** The log: the console's, and the lane's own file (lane.log) while the lane is up. */
  get log(): Logger {
    return this.fileLog ?? this.consoleLog;
  }
  private fileLog?: Logger;
  private started?: { containers: StartedTestContainer[]; lab: StartedLane };
  /** What the last fresh bring-up took. */
  timings?: LaneTimings;

  constructor(
    readonly config: LabConfig = loadLabConfig(DEFAULT_LANE_CONFIG),
    log: Logger,
  ) {
    if (config.storage !== 'shared') throw new Error(`the container lane runs the shared-store architecture only (a container cannot run DRBD's kernel module of its own): ${config.name} has storage ${config.storage}`);
    if (config.fencing.agent !== 'fence_ipmilan' || config.fencing.secondLevel) throw new Error(`the container lane fences through virtual BMCs only (fence_ipmilan): ${config.name} has ${config.fencing.agent}${config.fencing.secondLevel ? ` and ${config.fencing.secondLevel}` : ''}`);
    // No dm device under the store: in a container it would be the host's (the disk faults say so).
    const { storeDm: _none, ...plan } = planLab(config);
    this.plan = { ...plan, addressesGiven: true };
    this.dir = join(stateRoot(), 'lane', config.name);
    this.consoleLog = log.child(`lane:${config.name}`);
  }

  private readonly consoleLog: Logger;

  get traits(): TargetTraits {
    return laneTraits(this.config);
  }
  get name(): string {
    return this.config.name;
  }
  get record(): { lab: LabConfig; lane: 'containers' } {
    return { lab: this.config, lane: 'containers' };
  }
  get clusterReadyMs(): number {
    return this.config.waits.clusterReadyS * 1000;
  }
  baseline(): ReturnType<Target['baseline']> {
    return { why: 'the container lane runs at native speed: its SLOs are the absolute ones' };
  }

  private get bmcRoot(): string {
    return join(this.dir, 'host');
  }

  private labels(extra: Record<string, string> = {}): Record<string, string> {
    return { [LANE_LABEL]: this.config.name, [PID_LABEL]: String(process.pid), [SESSION_LABEL]: `${hostname()}:${process.pid}`, ...extra };
  }

  /** A new lane (or, in the same process, the one up already), waited until ready. */
  async up(options: { signal?: AbortSignal } = {}): Promise<StartedLane> {
    const { signal } = options;
    if (this.started) {
      const lab = this.started.lab;
      await lab.provision(signal); // starts the cluster stack of a node that was power-cycled
      await lab.clearFailures('before this run', signal);
      await lab.waitReady(this.clusterReadyMs, signal, { cleanups: 1, verifyFencing: { expected: this.plan.nodes.flatMap((n) => fenceDeviceSpecs(this.plan, n)) } });
      return lab;
    }
    const t0 = performance.now();
    const since = () => Number(((performance.now() - t0) / 1000).toFixed(1));
    if ((await ensureDockerd(this.log)).started) this.startedDockerd = true;
    const image = await ensureImage({ log: this.log });
    await reapLanes(this.log);
    const owner = await laneOwner(this.config.name);
    if (owner !== undefined && owner !== process.pid) throw new Error(`the container lane ${this.config.name} belongs to another live process (pid ${owner}); stop it, or: ha-chaos lane down`);
    await this.down();
    ensureStateDir(this.dir);
    this.fileLog = this.consoleLog.withSink(fileSink(join(this.dir, 'lane.log')));
    const secrets = labSecrets(this.dir, this.plan);
    const timings: LaneTimings = { image: { built: image.built, seconds: image.seconds }, ready: 0 };
    try {
      for (const net of this.plan.networks) {
        await docker(
          ['network', 'create', '--driver', 'bridge', '--subnet', net.cidr, '--gateway', net.hostIp, '-o', `com.docker.network.bridge.name=${bridgeName(this.plan, net.role)}`, '-o', 'com.docker.network.bridge.enable_ip_masquerade=false', ...Object.entries(this.labels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]), net.libvirtName],
          { log: this.log, phase: 'lane up' },
        );
      }
      const loop = await this.makeArray();
      const files = this.nodeFiles();
      const containers = await withProgress(this.log, `two node containers (${image.tag})`, () =>
        Promise.all(
          this.plan.nodes.map((node) =>
            new NodeContainer(
              image.tag,
              NIC_ORDER.map((role) => ({ name: networkName(this.plan, role), ip: role === 'management' ? managementIp(this.plan, node.index) : node.ip[role as Exclude<NetworkRole, 'management'>] })),
              { host: loop, container: '/dev/vdb' },
              this.log,
            )
              .withName(node.domain)
              .withHostname(node.name)
              .withLabels(this.labels({ 'io.ha-chaos.node': node.name }))
              .withAddedCapabilities('NET_ADMIN', 'SYS_ADMIN', 'SYS_NICE', 'IPC_LOCK')
              .withTmpFs({ '/run': 'rw,exec,mode=755', '/run/lock': 'rw', '/tmp': 'rw,exec' })
              .withBindMounts([
                { source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', mode: 'ro' },
                // No name server beyond the node: docker's embedded DNS would forward to the host's
                // resolvers (traffic out of the lab, and Postfix waiting ~10 s on a client lookup
                // before each greeting). Nothing answers on the node's own 127.0.0.1:53, so a lookup
                // fails at once; the lab's names are in /etc/hosts, kept across a power cycle.
                { source: files.resolv, target: '/etc/resolv.conf', mode: 'ro' },
                { source: files.hosts(node.name), target: '/etc/hosts', mode: 'rw' },
              ])
              // Booted: systemd has reached its default target (degraded: some unit failed, which readiness judges).
              .withWaitStrategy(Wait.forSuccessfulCommand('s=$(systemctl is-system-running 2>/dev/null); [ "$s" = running ] || [ "$s" = degraded ]').withStartupTimeout(this.config.waits.bootS * 1000))
              .start(),
          ),
        ),
      );
      timings.containers = since();
      // After the containers exist: each BMC answers `mc guid` with its container's identity, as a real BMC with its server's.
      const power = await this.startBmcs(secrets.bmcPassword);
      await this.learnNics();
      const lab = new StartedLane(this, power, new DockerShell(this.plan), secrets);
      this.started = { containers, lab };
      await lab.provision(signal);
      timings.bootstrap = since();
      await withProgress(this.log, 'corosync membership of 2, resources started, SMTP+IMAP on the virtual IP (testcontainers wait strategies)', async () => {
        const bound = this.clusterReadyMs;
        await Promise.all(containers.map((c) => waitOn(c, Wait.forSuccessfulCommand(`[ "$(corosync-quorumtool -l 2>/dev/null | grep -cE '^ +[0-9]+ +[0-9]+ +node[0-9]')" -eq 2 ]`).withStartupTimeout(bound))));
        timings.membership = since();
        await waitOn(containers[0]!, Wait.forSuccessfulCommand(`crm_resource --wait --timeout=20s >/dev/null 2>&1 && ${CRM_MON_XML} | grep 'id="vip"[^>]*role="Started"' >/dev/null`).withStartupTimeout(bound));
        const vip = this.plan.virtualIp;
        const greets = (port: number, re: string) => `timeout 5 bash -c 'exec 3<>/dev/tcp/${vip}/${port}; head -n1 <&3' | grep '${re}' >/dev/null`;
        await waitOn(containers[1]!, Wait.forSuccessfulCommand(`${greets(25, '^220 ')} && ${greets(143, '^[*] OK')}`).withStartupTimeout(bound));
      });
      // The harness's one definition of ready (nodes, store, resources, stonith, a real login) last.
      await lab.clearFailures('the first bootstrap', signal);
      await lab.waitReady(this.clusterReadyMs, signal, { cleanups: 1, verifyFencing: { expected: this.plan.nodes.flatMap((n) => fenceDeviceSpecs(this.plan, n)) } });
      timings.ready = since();
      this.timings = timings;
      this.log.info(`container lane ready in ${timings.ready} s (image ${image.built ? `built in ${image.seconds} s` : 'cached'}, containers booted at ${timings.containers} s, bootstrapped at ${timings.bootstrap} s)`, { virtualIp: this.plan.virtualIp });
      writePrivateFile(join(this.dir, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
      return lab;
    } catch (error) {
      this.log.error(`container lane bring-up failed: ${(error as Error).message.split('\n')[0]}; its log stays in ${join(this.dir, 'lane.log')} until lane down`);
      throw error;
    }
  }

  /** Ends a certification (certify calls it once every scenario ran): the lane is a disposable, removed with everything it made. */
  async release(): Promise<void> {
    const report = await this.down();
    this.log.info(`container lane removed: ${report.containers.length} containers, ${report.networks.length} networks, ${report.bmcs.length} BMCs, ${report.loopDevices.length} loop device`);
    // A dockerd this lane started goes with it (the image stays cached in docker's data root).
    if (this.startedDockerd && (await stopOurDockerd(this.log))) this.startedDockerd = false;
  }

  /** Whether this lane started dockerd (no daemon ran before it): then release() stops it. */
  private startedDockerd = false;

  /** The files each node's container mounts from the lane's directory: its resolver and hosts. */
  private nodeFiles(): { resolv: string; hosts: (node: string) => string } {
    const resolv = join(this.dir, 'resolv.conf');
    writePrivateFile(resolv, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    for (const node of this.plan.nodes) writePrivateFile(join(this.dir, `hosts-${node.name}`), renderHosts(this.plan));
    return { resolv, hosts: (node) => join(this.dir, `hosts-${node}`) };
  }

  /** The shared disk: an image file on the host under a loop device (made new: a lane is a disposable). */
  private async makeArray(): Promise<string> {
    const image = join(this.dir, 'array.img');
    await run('truncate', ['-s', `${this.config.nodes.storageGiB}G`, image], { timeoutMs: 30_000, log: this.log, node: 'host', phase: 'lane up' });
    const r = await run('losetup', ['--find', '--show', image], { timeoutMs: 30_000, log: this.log, node: 'host', phase: 'lane up' });
    const device = r.stdout.trim();
    writePrivateFile(join(this.dir, 'loop-device'), `${device}\n`);
    this.log.info(`the shared disk: ${device} over ${image} (${this.config.nodes.storageGiB} GiB), /dev/vdb in both containers`);
    return device;
  }

  private async startBmcs(password: string): Promise<NodePower[]> {
    const placement = { stateRoot: this.bmcRoot, log: this.log, session: `lane-${this.config.name}` };
    const power: NodePower[] = [];
    for (const node of this.plan.nodes) {
      const config = parseBmcConfig(
        { name: node.name, address: this.plan.bmcAddress, port: node.bmcPort, username: this.config.fencing.bmcUsername, password, target: { kind: 'docker', container: node.domain } },
        `BMC of ${node.name}`,
      );
      power.push(new BmcNodePower(await new VirtualBmc(config, placement).start()));
    }
    return power;
  }

  /**
   * Each node's interface per network, as docker named them (it attaches a container's networks
   * in an order of its own, the same at every start): read from the addresses, the same on both
   * nodes, and written into the plan before anything is rendered (the CIB's IPaddr2 names the
   * client NIC; faults and audits name the rings).
   */
  private async learnNics(): Promise<void> {
    const seen: string[] = [];
    for (const node of this.plan.nodes) {
      const r = await docker(['exec', containerOf(this.plan, node.name), 'ip', '-o', '-4', 'addr', 'show'], { log: this.log, phase: 'lane up' });
      const byIp = new Map([...r.stdout.matchAll(/^\d+: (\S+)\s+inet ([\d.]+)\//gm)].map((m) => [m[2]!, m[1]!]));
      for (const role of NIC_ORDER) {
        const ip = role === 'management' ? managementIp(this.plan, node.index) : node.ip[role as Exclude<NetworkRole, 'management'>];
        const nic = byIp.get(ip);
        if (!nic) throw new Error(`${node.name}: no interface has the ${role} network's address ${ip} (docker did not attach that network)`);
        node.nic[role] = nic;
      }
      seen.push(NIC_ORDER.map((role) => `${role}=${node.nic[role]}`).join(' '));
    }
    if (new Set(seen).size !== 1) throw new Error(`the nodes' interfaces differ (${seen.join(' | ')}): the CIB names one client NIC for both`);
    this.log.info(`interfaces (as docker attached them): ${seen[0]}`);
  }

  /** Removes everything this lane made (containers, networks, BMCs, loop device, state). Idempotent; works after a crash. */
  async down(): Promise<LaneDownReport> {
    const report = await downLane(this.config.name, this.consoleLog);
    this.started = undefined;
    this.fileLog = undefined;
    return report;
  }
}

/** The management address of node `index` (the lab's scheme: .10 + index). */
function managementIp(plan: LabPlan, index: number): string {
  const mgmt = plan.networks.find((n) => n.role === 'management')!;
  return mgmt.hostIp.replace(/\.1$/, `.${10 + index}`);
}

/** The live process that owns lane `name`'s containers, if any. */
async function laneOwner(name: string): Promise<number | undefined> {
  const r = await docker(['ps', '-a', '--filter', `label=${LANE_LABEL}=${name}`, '--format', `{{.Label "${PID_LABEL}"}}`], { reject: false, phase: 'lane up' });
  const pids = r.stdout.split('\n').map(Number).filter((p) => p > 0 && isAlive(p));
  return pids[0];
}

/** Removes lane `name`: its containers and networks (by label), BMCs, loop device and state directory. */
export async function downLane(name: string, log: Logger): Promise<LaneDownReport> {
  const dir = join(stateRoot(), 'lane', name);
  const report: LaneDownReport = { containers: [], networks: [], bmcs: [], loopDevices: [], stateDir: false };
  const daemon = await docker(['version', '--format', '{{.Server.Version}}'], { reject: false, log, phase: 'lane down', timeoutMs: 20_000 });
  if (daemon.ok) {
    const containers = (await docker(['ps', '-a', '--filter', `label=${LANE_LABEL}=${name}`, '--format', '{{.Names}}'], { log, phase: 'lane down' })).stdout.split('\n').filter(Boolean);
    if (containers.length) await docker(['rm', '-f', '-v', ...containers], { log, phase: 'lane down', timeoutMs: 120_000 });
    report.containers = containers;
    const networks = (await docker(['network', 'ls', '--filter', `label=${LANE_LABEL}=${name}`, '--format', '{{.Name}}'], { log, phase: 'lane down' })).stdout.split('\n').filter(Boolean);
    if (networks.length) await docker(['network', 'rm', ...networks], { log, phase: 'lane down' });
    report.networks = networks;
  }
  if (existsSync(dir)) {
    report.bmcs = await stopAllBmcs({ stateRoot: join(dir, 'host'), log });
    const image = join(dir, 'array.img');
    const loops = (await run('losetup', ['-j', image, '-O', 'NAME', '-n'], { timeoutMs: 30_000, reject: false, log, node: 'host', phase: 'lane down' })).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    for (const loop of loops) await run('losetup', ['-d', loop], { timeoutMs: 30_000, reject: false, log, node: 'host', phase: 'lane down' });
    report.loopDevices = loops;
    rmSync(dir, { recursive: true, force: true });
    report.stateDir = true;
  }
  return report;
}

/** Lanes whose owning process died (a crashed run): removed whole. Resolves their names. */
export async function reapLanes(log: Logger): Promise<string[]> {
  const r = await docker(['ps', '-a', '--filter', `label=${LANE_LABEL}`, '--format', `{{.Label "${LANE_LABEL}"}} {{.Label "${PID_LABEL}"}}`], { reject: false, log, phase: 'reap' });
  const dead = new Set<string>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [lane, pid] = line.split(' ');
    if (lane && lane !== 'image' && !(Number(pid) > 0 && isAlive(Number(pid)))) dead.add(lane);
  }
  for (const lane of dead) {
    log.warn(`reaping the container lane ${lane}: the process that made it is gone (a crashed run)`);
    await downLane(lane, log);
  }
  return [...dead];
}

/** The lane's cluster once its containers run: provisioned like the lab, held by the lane's controls (containers, not VMs). */
export class StartedLane extends StartedBuiltCluster {
  readonly traits: TargetTraits;
  readonly nics: NicControl;
  override readonly machines: MachineControl;
  constructor(lane: ContainerLane, power: NodePower[], ssh: NodeShell, secrets: LabSecrets) {
    super(lane, 'container', power, ssh, secrets);
    this.traits = lane.traits;
    this.nics = laneNics(lane.plan);
    this.machines = laneMachines(lane.plan);
    this.equivalents = LANE_EQUIVALENTS;
  }
  protected readonly machineWord = 'container';
}
