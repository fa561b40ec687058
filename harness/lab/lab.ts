/**
 * The lab: two VMs brought up by Vagrant (vagrant-libvirt), provisioned into the Axigen-style
 * HA cluster, each fenced through its own virtual BMC on the host.
 *
 * `new Lab(config).up()` is idempotent: it builds the box if its recipe changed, starts what is
 * not running, provisions what is not provisioned, and waits (bounded) until the cluster is
 * ready: both nodes online, DRBD UpToDate/UpToDate, all resources on one node, both stonith
 * devices started, SMTP and IMAP answering on the virtual IP. `lab.down()` removes every domain,
 * network, volume, BMC and file the lab made, also after a crash or Ctrl-C of `up`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../core/exec.ts';
import { fileSink, type Logger } from '../core/log.ts';
import { REPO_ROOT, stateRoot, ensureStateDir } from '../core/paths.ts';
import { withProgress } from '../core/progress.ts';
import { done, notYet, waitFor } from '../core/wait.ts';
import { stopAllBmcs } from '../bmc/virtual-bmc.ts';
import { fenceDeviceSpecs, type FenceDeviceSpec } from '../power/fence-resources.ts';
import { devicesWithoutIdentity } from '../power/fence-verify.ts';
import { readJsonFile } from '../core/json-file.ts';
import { INPUT_LIMITS } from '../core/input-file.ts';
import { FencingNotVerifiedError } from '../session/cluster-session.ts';
import type { NodePower } from '../power/power-device.ts';
import { stopAllPdus } from '../power/virtual-pdu.ts';
import { ensureBox, BOOT_ROOT, type Box } from './box.ts';
import type { LabSecrets } from '../cluster/lab-config.ts';
import { labSecrets } from '../provision/lab-secrets.ts';
import { checkHost, knownAccel, kvmNeedsCover, probeAccel, startDaemons, virsh, type Accel } from './host.ts';
import { type LabConfig, type LabPlan } from '../cluster/lab-config.ts';
import { planLab } from '../provision/lab-plan.ts';
import { parseSshConfig, removeControlSockets, sshFiles, SshRunner, type NodeShell } from '../cluster/ssh.ts';
import { storeOf } from '../storage/storage.ts';
import { setClockScript } from '../observe/clock.ts';
import { LabWedgedError } from '../session/cluster-session.ts';
import { StartedBuiltCluster, type BuiltClusterOwner } from '../provision/built-cluster.ts';
import type { Convergence, MachineControl, NicControl, StartedTarget, Target, TargetTraits } from '../session/target.ts';
import { loadBaseline } from '../calibrate/baseline.ts';
import { labMachines, labNics } from './lab-machines.ts';
import { attachLabPower, startLabPower } from './lab-power.ts';
import { writeLabTargetFile } from './lab-target-file.ts';
import { writePrivateFile } from '../core/host-files.ts';

const EMULATOR_WRAPPER = join(BOOT_ROOT, 'ha-chaos-qemu-tcg');

/** QEMU under TCG with a 256 MiB translation cache instead of 1 GiB (which becomes resident). */
const EMULATOR_SCRIPT = `#!/bin/sh
# ha-chaos: qemu-system-x86_64 with a smaller TCG translation cache (written by the harness)
prev=
for arg do
  shift
  if [ "$prev" = -accel ] && [ "\${arg%%,*}" = tcg ]; then
    case "$arg" in *tb-size=*) ;; *) arg="$arg,tb-size=256" ;; esac
  fi
  set -- "$@" "$arg"
  prev=$arg
done
exec /usr/bin/qemu-system-x86_64 "$@"
`;

/** What `lab down` removed. */
export interface DownReport {
  domains: string[];
  networks: string[];
  volumes: string[];
  /** The power devices stopped: BMCs and PDUs. */
  bmcs: string[];
  stateDir: boolean;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** A lab defined by its config; nothing is started until `up`. */
export class Lab implements Target {
  readonly plan: LabPlan;
  readonly dir: string;
  readonly log: Logger;

  get traits(): TargetTraits {
    return labTraits(this.config);
  }
  get name(): string {
    return this.config.name;
  }
  get record(): { lab: LabConfig } {
    return { lab: this.config };
  }
  get clusterReadyMs(): number {
    return this.config.waits.clusterReadyS * 1000;
  }
  get vcpus(): number {
    return this.config.nodes.cpus;
  }
  baseline(): ReturnType<Target['baseline']> {
    return loadBaseline(this.config);
  }

  constructor(
    readonly config: LabConfig,
    log: Logger,
  ) {
    this.plan = planLab(config);
    this.dir = join(stateRoot(), 'lab', config.name);
    this.consoleLog = log.child(`lab:${config.name}`);
    this.log = this.consoleLog.withSink(fileSink(join(this.dir, 'lab.log')));
  }

  /** The log without the lab's file: for `down`, which removes that file's directory. */
  private readonly consoleLog: Logger;

  get session(): string {
    return `lab-${this.config.name}`;
  }

  private vagrantEnv(): Record<string, string> {
    return {
      VAGRANT_CWD: this.dir,
      HA_CHAOS_VAGRANT_PLAN: join(this.dir, 'vagrant.json'),
      VAGRANT_DEFAULT_PROVIDER: 'libvirt',
      VAGRANT_CHECKPOINT_DISABLE: '1',
      VAGRANT_SUPPRESS_PLUGIN_INSTALL: '1',
    };
  }

  private vagrant(args: string[], timeoutMs: number, signal?: AbortSignal, reject = true, log = this.log, onLine?: (line: string) => void) {
    return run('vagrant', [...args, '--no-color'], { timeoutMs, signal, env: this.vagrantEnv(), cwd: this.dir, node: 'host', phase: `vagrant ${args[0]}`, log, reject, onLine });
  }

  /** The lab's secrets, made once per lab (mode 0600) and registered for redaction. */
  private secrets(): LabSecrets {
    return labSecrets(this.dir, this.plan);
  }

  /** The lab's own SSH key (never Vagrant's well-known insecure key). */
  private async sshKey(): Promise<string> {
    const key = join(this.dir, 'id_ed25519');
    if (!existsSync(key)) {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `ha-chaos-${this.config.name}`, '-f', key], { timeoutMs: 30_000, log: this.log });
    }
    return key;
  }

  /** The SSH runner of a lab that is up as planned, or undefined (then Vagrant brings it up). */
  private async reuse(): Promise<SshRunner | undefined> {
    const config = join(this.dir, 'ssh_config');
    if (!existsSync(config)) return undefined;
    for (const node of this.plan.nodes) {
      const state = await virsh(['domstate', node.domain], { timeoutMs: 30_000, reject: false, log: this.log, node: 'host', phase: 'lab up' });
      if (!state.ok || state.stdout.trim() !== 'running') return undefined;
    }
    const ssh = new SshRunner(config);
    const answers = await Promise.all(this.plan.nodes.map((n) => ssh.root(n.name, 'true', { timeoutMs: 20_000, reject: false, log: this.log, phase: 'lab up' })));
    return answers.every((r) => r.ok) ? ssh : undefined;
  }

  /** Writes the Vagrant plan; returns whether it differs from the one written before. */
  private writeVagrantPlan(box: Box, accel: Accel, key: string): boolean {
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    const management = this.plan.networks.find((n) => n.role === 'management')!;
    const plan = {
      box: box.name,
      accel,
      prefix: this.plan.prefix,
      kernel: box.kernel,
      initrd: box.initrd,
      emulator: accel === 'tcg' ? EMULATOR_WRAPPER : null,
      sshKey: key,
      bootTimeoutS: this.config.waits.bootS,
      management: { name: management.libvirtName, cidr: management.cidr },
      nodes: this.plan.nodes.map((n) => ({
        name: n.name,
        cpus: this.config.nodes.cpus,
        memoryMiB: this.config.nodes.memoryMiB,
        disks: storeOf(this.plan).disks(this.plan),
        managementMac: n.mac.management,
        consoleLog: `/var/log/libvirt/qemu/${n.domain}-console.log`,
        cmdLine: [
          'root=/dev/vda rw console=ttyS0 mitigations=off net.ifnames=0',
          `systemd.hostname=${n.name}`,
          `ha_chaos.ssh_key=${Buffer.from(pub).toString('base64')}`,
        ].join(' '),
        networks: this.plan.networks
          .filter((net) => net.role !== 'management')
          .map((net) => ({ libvirtName: net.libvirtName, ip: n.ip[net.role as keyof typeof n.ip], mac: n.mac[net.role] })),
      })),
    };
    const file = join(this.dir, 'vagrant.json');
    const text = `${JSON.stringify(plan, null, 2)}\n`;
    const changed = !existsSync(file) || readFileSync(file, 'utf8') !== text;
    writePrivateFile(file, text);
    writePrivateFile(join(this.dir, 'Vagrantfile'), `load ${JSON.stringify(join(REPO_ROOT, 'vagrant/Vagrantfile'))}\n`);
    return changed;
  }

  /** Brings the lab up (idempotent) and waits until it is ready. */
  async up(options: { signal?: AbortSignal } = {}): Promise<StartedLab> {
    const { signal } = options;
    const started = performance.now();
    ensureStateDir(this.dir);
    const host = await checkHost(this.log);
    const missing = host.checks.filter((c) => !c.ok && !['virtlogd', 'libvirtd'].includes(c.name));
    if (missing.length) {
      throw new HostNotReadyError(missing.map((c) => `${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`));
    }
    const box = await ensureBox({ log: this.log, signal });
    const accel = knownAccel() ?? (await probeAccel(box.kernel, this.log));
    await startDaemons({ maskKvm: kvmNeedsCover(accel), log: this.log });
    if (accel === 'tcg') writePrivateFile(EMULATOR_WRAPPER, EMULATOR_SCRIPT, 0o755);
    const secrets = this.secrets();
    const key = await this.sshKey();
    const planChanged = this.writeVagrantPlan(box, accel, key);

    // A lab that is up as planned (same Vagrant plan, both domains running, both nodes answering
    // over the SSH config written last time) skips Vagrant: `vagrant up` and `vagrant ssh-config`
    // cost 40-50 s of Ruby on a loaded host before every run, to learn nothing new.
    // A lab stopped with its state (`lab stop`) resumes where it was, in seconds.
    const saved = await this.savedDomains();
    if (saved.length === this.plan.nodes.length && !planChanged) await this.resume(signal);
    else if (saved.length) await this.discardSaved(saved, planChanged ? 'the lab plan changed since it was stopped' : 'only some VMs have a saved state');
    // A VM that is not running now and runs after Vagrant is a repair outside its power device: recorded in that device's log.
    const downBefore = await this.domainsNotRunning();
    let ssh = planChanged ? undefined : await this.reuse();
    if (ssh) this.log.info('the VMs are up as planned: Vagrant skipped');
    else {
      await this.makeHostVolumes();
      // Each progress line says what Vagrant said last (which VM, which step), not only "still working".
      let said = '';
      await withProgress(
        this.log,
        `vagrant up (two VMs, ${accel.toUpperCase()})`,
        async () => {
          const result = await this.vagrant(['up', '--no-provision'], (this.config.waits.bootS + 300) * 1000, signal, true, this.log, (line) => {
            said = line.replace(/^==> /, '');
            this.log.debug(`vagrant: ${said}`);
          });
          this.log.debug(result.stdout);
        },
        15_000,
        () => (said ? `vagrant: ${said.slice(0, 160)}` : undefined),
      );
      ssh = await this.connect(key);
    }

    const power = await startLabPower(this.plan, secrets.bmcPassword, { stateRoot: this.bmcRoot, log: this.log, session: this.session });
    for (const node of downBefore) {
      power.find((p) => p.node === node)?.knobs?.recordOutside('on', 'repair: lab up started the VM through libvirt');
      this.log.info(`${node}'s VM was not running: lab up started it through libvirt (a repair outside its power device, recorded in its power log)`);
    }
    const lab = new StartedLab(this, accel, power, ssh, secrets);
    if (this.config.mail.package) await lab.copyPackage(this.config.mail.package, signal);
    const bootstrapped = await lab.provision(signal);
    // A failed action left from before (an earlier run, a monitor that timed out on a loaded
    // host) never clears by itself: recorded, cleared (logged), then the wait goes on. One more
    // that appears while this bring-up waits gets one recorded cleanup too (a monitor that timed
    // out on a host loaded right then); a second wedge fails the bring-up at once, with the fix.
    await lab.clearFailures(bootstrapped ? 'the first bootstrap' : 'before this bring-up', signal);
    // Ready means verified: each node can be fenced by its own device, with the plan's parameters.
    const expected = this.plan.nodes.flatMap((n) => fenceDeviceSpecs(this.plan, n));
    await lab.waitReady(this.config.waits.clusterReadyS * 1000, signal, { cleanups: 1, verifyFencing: { expected } });
    await this.verifyByFencing(lab, expected, signal);
    this.log.info(`lab ready in ${((performance.now() - started) / 1000).toFixed(0)} s`, { virtualIp: this.plan.virtualIp });
    return lab;
  }

  /**
   * Where a fence device's identity cannot be read (a PDU outlet), the lab proves it by fencing
   * each node once (see ClusterSession.fenceEachNodeOnce), once per fence configuration: the
   * record in the lab's directory names the devices' plan it verified.
   */
  private async verifyByFencing(lab: StartedLab, expected: readonly FenceDeviceSpec[], signal?: AbortSignal): Promise<void> {
    const unreadable = devicesWithoutIdentity(lab.fencingVerification);
    if (!unreadable.length) return;
    const record = join(this.dir, 'fencing-verified.json');
    const hash = createHash('sha256').update(JSON.stringify(expected)).digest('hex');
    if (existsSync(record) && (readJsonFile(record, { maxBytes: INPUT_LIMITS.state, what: 'fencing record', kind: 'state' }).value as { hash?: string } | null)?.hash === hash) {
      this.log.info(`fencing of ${unreadable.map((d) => d.device).join(', ')} verified by fencing each node earlier, with these devices (${record})`);
      return;
    }
    this.log.info(`${unreadable.map((d) => d.device).join(', ')}: no identity to read; fencing each node once to prove which machine each device powers`);
    const problems = await lab.fenceEachNodeOnce(this.config.waits.clusterReadyS * 1000, signal);
    if (problems.length) throw new FencingNotVerifiedError({ ok: false, problems, notes: [], devices: lab.fencingVerification?.devices ?? [] });
    writePrivateFile(record, `${JSON.stringify({ hash, at: new Date().toISOString(), devices: unreadable.map((d) => d.device) }, null, 2)}\n`);
  }

  /** The nodes whose VM exists and is not running (shut off, crashed): what a bring-up would start outside their power devices. */
  private async domainsNotRunning(): Promise<string[]> {
    const down: string[] = [];
    for (const node of this.plan.nodes) {
      const state = await virsh(['domstate', node.domain], { timeoutMs: 30_000, reject: false, log: this.log, node: 'host', phase: 'lab up' });
      if (state.ok && /shut off|crashed/.test(state.stdout)) down.push(node.name);
    }
    return down;
  }

  /** The lab stays up after a certification, for the next command: nothing of it is released (`lab down` removes it). */
  async release(): Promise<void> {}

  /** Writes the target file that describes this running lab as if it were hardware (see lab-target-file.ts); resolves its path. */
  async writeTargetFile(): Promise<string> {
    const started = await this.attach();
    const hosts = parseSshConfig(readFileSync(join(this.dir, 'ssh_config'), 'utf8'));
    return writeLabTargetFile(join(this.dir, 'target'), this.plan, hosts, join(this.dir, 'id_ed25519'), { bmcPassword: this.secrets().bmcPassword, accounts: started.accounts() }, sshFiles(this.dir).knownHosts);
  }

  /** Reaches a lab that is up (for status, ssh), without changing it. */
  async attach(): Promise<StartedLab> {
    if (!existsSync(join(this.dir, 'secrets.json'))) throw new Error(`lab ${this.config.name} is not up (nothing in ${this.dir}); run: ha-chaos lab up`);
    const secrets = this.secrets();
    return new StartedLab(this, knownAccel() ?? 'tcg', attachLabPower(this.plan, { stateRoot: this.bmcRoot, log: this.log }), new SshRunner(join(this.dir, 'ssh_config')), secrets);
  }

  /** BMCs of this lab live under its own directory, so two labs never share names. */
  get bmcRoot(): string {
    return join(this.dir, 'host');
  }

  private async connect(key: string): Promise<SshRunner> {
    const result = await this.vagrant(['ssh-config'], 120_000);
    // Vagrant logs in as vagrant; the harness as root, with the same key (see ssh.ts).
    const hosts = parseSshConfig(result.stdout).map((h) => ({ ...h, user: 'root' }));
    if (hosts.length !== this.plan.nodes.length) throw new Error(`vagrant ssh-config listed ${hosts.length} hosts, expected ${this.plan.nodes.length}`);
    const ssh = SshRunner.write(join(this.dir, 'ssh_config'), hosts, key, this.dir);
    for (const node of this.plan.nodes) {
      await waitFor(
        `ssh to ${node.name}`,
        async () => {
          const r = await ssh.root(node.name, 'true', { timeoutMs: 20_000, reject: false });
          return r.ok ? done(true) : notYet(r.stderr || r.reason);
        },
        { timeoutMs: 180_000, intervalMs: 2000 },
      );
    }
    return ssh;
  }

  private libvirt(args: string[], phase: string, timeoutMs = 60_000) {
    return virsh(args, { timeoutMs, reject: false, log: this.log, node: 'host', phase });
  }

  /** The store's volumes that the host makes before the VMs (a shared disk), if missing. */
  private async makeHostVolumes(): Promise<void> {
    for (const volume of storeOf(this.plan).hostVolumes(this.plan)) {
      if ((await this.libvirt(['vol-info', '--pool', 'default', volume.name], 'lab up', 30_000)).ok) continue;
      const made = await this.libvirt(['vol-create-as', 'default', volume.name, `${volume.sizeGiB}G`, '--format', volume.format], 'lab up', 120_000);
      if (!made.ok) throw new Error(`could not make the volume ${volume.name} in libvirt's default pool: ${made.stderr.trim() || made.reason}`);
      this.log.info(`made the volume ${volume.name} (${volume.sizeGiB} GiB ${volume.format}) for the store`);
    }
  }

  /** The lab's domains that hold a saved state (`lab stop`), in node order. */
  private async savedDomains(): Promise<string[]> {
    const saved: string[] = [];
    for (const node of this.plan.nodes) {
      const info = await this.libvirt(['dominfo', node.domain], 'lab up', 30_000);
      if (info.ok && /^Managed save:\s+yes/m.test(info.stdout)) saved.push(node.domain);
    }
    return saved;
  }

  private async discardSaved(domains: string[], why: string): Promise<void> {
    this.log.warn(`discarding the saved state of ${domains.join(', ')}: ${why} (the VMs boot from their disks instead)`);
    for (const domain of domains) await this.libvirt(['managedsave-remove', domain], 'lab up');
  }

  /**
   * Resumes a stopped lab: both VMs restored paused, then resumed together (the cluster sees no
   * time pass: a guest's clocks stop with it), then each guest's wall clock set to the host's,
   * which is the one thing that did move on.
   */
  private async resume(signal?: AbortSignal): Promise<void> {
    await withProgress(this.log, 'resuming the stopped lab (saved memory of both VMs)', async () => {
      for (const net of this.plan.networks) {
        const info = await this.libvirt(['net-info', net.libvirtName], 'lab up', 30_000);
        if (info.ok && /^Active:\s+no/m.test(info.stdout)) await this.libvirt(['net-start', net.libvirtName], 'lab up');
      }
      const restored = await Promise.all(this.plan.nodes.map((n) => this.libvirt(['start', '--paused', n.domain], 'lab up', 300_000)));
      const failed = restored.findIndex((r) => !r.ok);
      if (failed >= 0) throw new Error(`could not restore ${this.plan.nodes[failed]!.domain} from its saved state: ${restored[failed]!.stderr.trim() || restored[failed]!.reason}`);
      await Promise.all(this.plan.nodes.map((n) => this.libvirt(['resume', n.domain], 'lab up')));
      const ssh = new SshRunner(join(this.dir, 'ssh_config'));
      if (!existsSync(ssh.configFile)) {
        this.log.warn(`no ${ssh.configFile}: the resumed guests' clocks are left as saved (each run measures its offsets)`);
        return;
      }
      for (const node of this.plan.nodes) {
        // The first command opens the connection; the second, over it, sets the clock (~0.1 s late at most).
        await waitFor(
          `ssh to ${node.name} after the resume`,
          async () => {
            const r = await ssh.root(node.name, 'true', { timeoutMs: 20_000, reject: false });
            return r.ok ? done(true) : notYet(r.stderr || r.reason);
          },
          { timeoutMs: 120_000, intervalMs: 1000, signal },
        );
        const r = await ssh.root(node.name, setClockScript(Date.now(), 0), { timeoutMs: 20_000, reject: false, log: this.log, phase: 'lab up', signal });
        if (!r.ok) throw new Error(`could not set the clock of ${node.name} after the resume: ${r.reason}`);
      }
    });
  }

  /**
   * Stops the lab with its state: both VMs paused at once, their memory saved to disk (libvirt
   * managed save, ~300 MB a VM measured), the power devices stopped. `lab up` resumes it where it was;
   * `lab down` removes it. Resolves the domains saved.
   */
  async stop(): Promise<string[]> {
    const states = await Promise.all(this.plan.nodes.map((n) => this.libvirt(['domstate', n.domain], 'lab stop', 30_000)));
    const saved = await this.savedDomains();
    if (saved.length === this.plan.nodes.length) return saved;
    const notRunning = this.plan.nodes.filter((_, i) => !['running', 'paused'].includes(states[i]!.stdout.trim()));
    if (notRunning.length) {
      throw new Error(`cannot stop lab ${this.config.name} with its state: ${notRunning.map((n) => `${n.domain} is ${states[this.plan.nodes.indexOf(n)]!.stdout.trim() || 'not defined'}`).join(', ')} (bring it up first: ha-chaos lab up; or remove it: ha-chaos lab down)`);
    }
    await withProgress(this.log, 'saving both VMs (paused together, memory to disk)', async () => {
      await Promise.all(this.plan.nodes.map((n) => this.libvirt(['suspend', n.domain], 'lab stop')));
      const results = await Promise.all(this.plan.nodes.map((n) => this.libvirt(['managedsave', '--paused', n.domain], 'lab stop', 600_000)));
      const failed = results.findIndex((r) => !r.ok);
      if (failed >= 0) {
        await Promise.all(this.plan.nodes.map((n) => this.libvirt(['resume', n.domain], 'lab stop')));
        throw new Error(`could not save ${this.plan.nodes[failed]!.domain}: ${results[failed]!.stderr.trim() || results[failed]!.reason} (the lab was resumed as it was)`);
      }
    });
    await stopAllBmcs({ stateRoot: this.bmcRoot, log: this.log });
    await stopAllPdus({ stateRoot: this.bmcRoot, log: this.log });
    if (existsSync(join(this.dir, 'ssh_config'))) {
      const ssh = new SshRunner(join(this.dir, 'ssh_config'));
      await Promise.all(this.plan.nodes.map((n) => ssh.close(n.name)));
    }
    return this.plan.nodes.map((n) => n.domain);
  }

  /**
   * Removes everything the lab made: BMCs, domains (with their volumes), networks, leftover
   * volumes, SSH control sockets, and its state directory. Idempotent; works after a crash.
   */
  async down(): Promise<DownReport> {
    const log = this.consoleLog;
    const prefix = this.plan.prefix;
    const libvirt = (args: string[]) => virsh(args, { timeoutMs: 60_000, reject: false, log, node: 'host', phase: 'lab down' });
    const libvirtd = (await run('pgrep', ['-x', 'libvirtd'], { timeoutMs: 5000, reject: false })).ok;
    /** The libvirt objects carrying the lab's prefix right now. */
    const ours = async () =>
      libvirtd
        ? {
            domains: lines((await libvirt(['list', '--all', '--name'])).stdout).filter((d) => d.startsWith(prefix)),
            networks: lines((await libvirt(['net-list', '--all', '--name'])).stdout).filter((n) => n.startsWith(prefix)),
            volumes: lines((await libvirt(['vol-list', 'default'])).stdout).map((l) => l.split(/\s+/)[0]!).filter((v) => v.startsWith(prefix)),
          }
        : { domains: [], networks: [], volumes: [] };
    const found = await ours();
    const report: DownReport = { ...found, bmcs: [...(await stopAllBmcs({ stateRoot: this.bmcRoot, log })), ...(await stopAllPdus({ stateRoot: this.bmcRoot, log }))], stateDir: false };
    // A stopped lab's saved memory: libvirt refuses to undefine a domain that has one.
    for (const domain of found.domains) await libvirt(['managedsave-remove', domain]);
    if (existsSync(join(this.dir, 'Vagrantfile')) && existsSync(join(this.dir, 'vagrant.json'))) {
      await this.vagrant(['destroy', '-f'], 300_000, undefined, false, log);
    }
    // Whatever Vagrant did not remove (a crashed or interrupted `up`, a lost .vagrant dir).
    const left = await ours();
    for (const domain of left.domains) {
      await libvirt(['destroy', domain]);
      await libvirt(['undefine', domain, '--remove-all-storage']);
    }
    for (const net of left.networks) {
      await libvirt(['net-destroy', net]);
      await libvirt(['net-undefine', net]);
    }
    for (const vol of (await ours()).volumes) await libvirt(['vol-delete', '--pool', 'default', vol]);
    const merge = (a: string[], b: string[]) => [...new Set([...a, ...b])];
    report.domains = merge(report.domains, left.domains);
    report.networks = merge(report.networks, left.networks);
    report.volumes = merge(report.volumes, left.volumes);
    if (existsSync(join(this.dir, 'ssh_config'))) {
      const ssh = new SshRunner(join(this.dir, 'ssh_config'));
      await Promise.all(this.plan.nodes.map((n) => ssh.close(n.name)));
    }
    // Sockets in the lab directory go with it; these are an older lab's in /tmp, or a deep lab's runtime directory.
    removeControlSockets(this.dir);
    if (existsSync(this.dir)) {
      rmSync(this.dir, { recursive: true, force: true });
      report.stateDir = true;
    }
    return report;
  }
}

/** The host lacks something the lab needs. */
export class HostNotReadyError extends Error {
  constructor(readonly problems: string[]) {
    super(`the host is not ready for the lab:\n${problems.map((p) => `  - ${p}`).join('\n')}\nrun: ha-chaos lab doctor --fix`);
    this.name = 'HostNotReadyError';
  }
}

/** A lab whose VMs are up: SSH, BMCs, status; the hypervisor beside them. */
export class StartedLab extends StartedBuiltCluster {
  readonly traits: TargetTraits;
  readonly nics: NicControl;
  override readonly machines: MachineControl;
  constructor(lab: BuiltClusterOwner, accel: StartedTarget['accel'], power: NodePower[], ssh: NodeShell, secrets: LabSecrets) {
    super(lab, accel, power, ssh, secrets);
    this.traits = labTraits(lab.config);
    this.nics = labNics(lab.plan);
    this.machines = labMachines(lab.plan);
  }
  protected readonly machineWord = 'VM';
}

/** What faults need to know of a lab before it is up: its store, and every method (it has the hypervisor and runs its power devices). */
export function labTraits(config: LabConfig): TargetTraits {
  return { kind: 'lab', storage: config.storage, methods: ['hypervisor-nic', 'machine-pause', 'disk-hotplug', 'power-device-faults', 'own-kernel', 'own-clock', 'netem', 'store-dm'], describe: `lab ${config.name} (storage ${config.storage}, ${config.fencing.agent}${config.fencing.secondLevel ? `, then ${config.fencing.secondLevel}` : ''})` };
}

export { LabWedgedError, type Convergence };
