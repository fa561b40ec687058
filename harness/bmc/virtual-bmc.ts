/**
 * The virtual BMC: one OpenIPMI `ipmi_sim` per cluster node, serving IPMI 2.0 lanplus on its own
 * address and port, whose chassis power control acts on a power target (the node's libvirt
 * domain, or a stand-in process in tests). `fence_ipmilan` and `ipmitool` work against it
 * unchanged.
 *
 * Lifecycle: `new VirtualBmc(config).start()` -> {@link StartedVirtualBmc}, which is
 * AsyncDisposable and whose `stop()` is idempotent. Each BMC lives in `<state>/bmc/<name>/`
 * (config, pid, power log), so `StartedVirtualBmc.attach(name)` reaches it from another process
 * and {@link stopAllBmcs} finds every leftover after a crash.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, isAlive, run, spawnDaemon } from '../core/exec.ts';
import { assertUdpPortFree, stopDaemon } from '../core/daemon-signals.ts';
import { deviceDir, deviceLeftovers, hangDevice, isDeviceDir, killDevice, readDeviceRecord, resumeDevice, setDeviceControl, type KnobbedDevice } from './device-knobs.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { stateRoot, ensureStateDir } from '../core/paths.ts';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { registerSecret } from '../core/secrets.ts';
import { done, notYet, StopWaiting, waitFor } from '../core/wait.ts';
import { BMC_NAME, endpointOf, type BmcConfig, type BmcEndpoint, type PowerTargetSpec } from './bmc-config.ts';
import { IpmiClient, type IpmiClientOptions } from './ipmi-client.ts';
import { lanGuidHex, machineIdentity } from './machine-identity.ts';
import { writePrivateFile } from '../core/host-files.ts';
import {
  NO_FAULTS,
  parsePowerLog,
  renderControlWrapper,
  renderEmu,
  renderFaultsEnv,
  renderLanConf,
  renderTargetEnv,
  type PowerControlFaults,
  type PowerLogEntry,
} from './sim-files.ts';

/** The shared chassis-control program, shipped beside this file. */
export const CHASSIS_CONTROL = fileURLToPath(new URL('./chassis-control.sh', import.meta.url));

/** What `<state>/bmc/<name>/bmc.json` records: everything but the secret. */
export interface BmcRecord extends BmcEndpoint {
  pid: number;
  /** Who started it (a run id, a lab name, `manual`): cleanups can target one session. */
  session: string;
  createdAt: string;
  target: PowerTargetSpec;
  /** The identity of the machine it powers when it started (see machine-identity.ts): what `mc guid` answers. */
  identity?: string;
}

export interface BmcPlacement {
  /** Default: {@link stateRoot}(). */
  stateRoot?: string;
  log?: Logger;
}

export interface StartOptions {
  /** How long to wait for the BMC to answer IPMI. Default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const bmcDir = (root: string, name: string) => deviceDir(root, 'bmc', name);
const isBmcDir = (dir: string) => isDeviceDir(dir, 'bmc');
const readRecord = (dir: string) =>
  readDeviceRecord<BmcRecord>(dir, 'bmc', (r) => typeof r.pid === 'number' && typeof r.name === 'string' && typeof r.port === 'number' && typeof r.target === 'object', 'name, address, port, username, pid and target');

/** True when `pid` is an ipmi_sim serving the BMC in `dir`. */
function isOurSim(pid: number, dir: string): boolean {
  const argv = commandLine(pid);
  return Boolean(argv && isAlive(pid) && argv[0]?.endsWith('ipmi_sim') && argv.includes(join(dir, 'lan.conf')));
}

/** Starts ipmi_sim on the files in `dir` and returns its pid. */
function spawnSim(dir: string, name: string, log: Logger): number {
  const pid = spawnDaemon('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'sim.emu'), '-s', join(dir, 'sim-state'), '-n'], {
    logFile: join(dir, 'ipmi_sim.log'),
    cwd: dir,
    node: name,
    log,
  });
  writePrivateFile(join(dir, 'ipmi_sim.pid'), `${pid}\n`);
  return pid;
}

/** Waits until the BMC answers a real IPMI request, or its ipmi_sim dies. */
async function waitAnswering(dir: string, pid: number, client: IpmiClient, options: StartOptions): Promise<void> {
  const { address, port, name } = client.endpoint;
  await waitFor(
    `BMC ${name} answering IPMI on ${address}:${port}`,
    async () => {
      if (!isAlive(pid)) {
        const out = existsSync(join(dir, 'ipmi_sim.log')) ? readFileSync(join(dir, 'ipmi_sim.log'), 'utf8').trim() : '';
        throw new StopWaiting(`ipmi_sim for BMC ${name} exited during start-up (port ${port} in use?): ${out.split('\n').slice(-3).join(' / ')}`);
      }
      try {
        return done(await client.status());
      } catch (error) {
        return notYet(error instanceof Error ? error.message : String(error));
      }
    },
    { timeoutMs: options.timeoutMs ?? 10_000, intervalMs: 100, signal: options.signal },
  );
}

/** A BMC that is configured but not started. */
export class VirtualBmc {
  private readonly root: string;
  private readonly log: Logger;

  constructor(
    readonly config: BmcConfig,
    placement: BmcPlacement & { session?: string } = {},
  ) {
    this.root = placement.stateRoot ?? stateRoot();
    this.log = (placement.log ?? silentLogger).child(`bmc:${config.name}`);
    this.session = placement.session ?? 'manual';
  }

  private readonly session: string;

  /**
   * Writes the BMC's directory, starts ipmi_sim, and waits until it answers IPMI. If anything
   * fails half-way, what was started is stopped and removed, and the original error rethrown.
   */
  async start(options: StartOptions = {}): Promise<StartedVirtualBmc> {
    const { config } = this;
    const dir = bmcDir(this.root, config.name);
    if (existsSync(join(dir, 'bmc.json'))) {
      const existing = StartedVirtualBmc.attach(config.name, { stateRoot: this.root, log: this.log });
      if (existing.isRunning()) {
        throw new Error(`BMC ${config.name} is already running (pid ${existing.record.pid}, port ${existing.record.port}); stop it first: ha-chaos bmc stop ${config.name}`);
      }
      await existing.stop();
    }
    await assertUdpPortFree(config.address, config.port, `BMC ${config.name}`);
    rmSync(dir, { recursive: true, force: true });
    ensureStateDir(join(dir, 'sim-state'));
    chmodSync(dir, 0o700);
    const control = join(dir, 'control');
    // It answers `mc guid` with its machine's identity, as a real BMC answers with its server's SMBIOS UUID.
    const identity = await machineIdentity(config.target, this.log);
    writePrivateFile(join(dir, 'lan.conf'), renderLanConf(config, control, identity ? lanGuidHex(identity) : undefined), 0o600);
    writePrivateFile(join(dir, 'password'), config.password, 0o600);
    writePrivateFile(join(dir, 'sim.emu'), renderEmu());
    writePrivateFile(control, renderControlWrapper(CHASSIS_CONTROL, dir), 0o755);
    writePrivateFile(join(dir, 'target.env'), renderTargetEnv(config, dir));
    writePrivateFile(join(dir, 'faults.env'), renderFaultsEnv(NO_FAULTS));
    writePrivateFile(join(dir, 'power.log'), '');

    let pid: number | undefined;
    try {
      pid = spawnSim(dir, config.name, this.log);
      const record: BmcRecord = { ...endpointOf(config), pid, session: this.session, createdAt: new Date().toISOString(), target: config.target, ...(identity ? { identity } : {}) };
      writePrivateFile(join(dir, 'bmc.json'), `${JSON.stringify(record, null, 2)}\n`);
      const started = new StartedVirtualBmc(record, config.password, dir, this.log);
      await waitAnswering(dir, pid, started.client({ retries: 0 }), options);
      this.log.info(`BMC serving IPMI lanplus on ${config.address}:${config.port}`, { pid, target: config.target.kind });
      return started;
    } catch (error) {
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
}

/** A running virtual BMC, with the fault knobs the fault library uses. */
export class StartedVirtualBmc implements AsyncDisposable {
  private stopped = false;

  constructor(
    private recordValue: BmcRecord,
    private readonly password: string,
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /** Reaches a BMC started by this or another process. */
  static attach(name: string, placement: BmcPlacement = {}): StartedVirtualBmc {
    const root = placement.stateRoot ?? stateRoot();
    const dir = bmcDir(root, name);
    const record = readRecord(dir);
    if (!record) throw new Error(`no BMC named ${name} (nothing in ${dir}); start one with: ha-chaos bmc serve ${name} ...`);
    const password = registerSecret(readInputFile(join(dir, 'password'), { maxBytes: INPUT_LIMITS.state, what: 'BMC password file', kind: 'state' }));
    return new StartedVirtualBmc(record, password, dir, (placement.log ?? silentLogger).child(`bmc:${name}`));
  }

  get record(): BmcRecord {
    return this.recordValue;
  }
  get name(): string {
    return this.recordValue.name;
  }
  get endpoint(): BmcEndpoint {
    const { name, address, port, username } = this.recordValue;
    return { name, address, port, username };
  }
  /** Path of the file holding the password (mode 0600), for a person's `ipmitool -f`. */
  get passwordFile(): string {
    return join(this.dir, 'password');
  }

  /** True while this BMC's ipmi_sim process exists (it may be hung). */
  isRunning(): boolean {
    return isOurSim(this.recordValue.pid, this.dir);
  }

  /** An IPMI client for this BMC. */
  client(options: Omit<IpmiClientOptions, 'password'> = {}): IpmiClient {
    return new IpmiClient(this.endpoint, { log: this.log, ...options, password: this.password });
  }

  /** The credential, for handing to a fence agent (never log it). */
  secret(): string {
    return this.password;
  }

  /** Every set request the chassis control received, in order, on the host clock. */
  powerLog(): PowerLogEntry[] {
    const file = join(this.dir, 'power.log');
    return existsSync(file) ? parsePowerLog(readFileSync(file, 'utf8')) : [];
  }

  /**
   * Records in the power log a power change made to the machine outside this BMC (a repair that
   * started the VM through the hypervisor): the log stays the one account of the machine's power,
   * with who did what (`detail`: `outside: <by>`).
   */
  recordOutside(value: '0' | '1', by: string): void {
    const line = JSON.stringify({ time: Date.now(), request: 'power', value, result: 'done', detail: `outside: ${by}` } satisfies PowerLogEntry);
    writePrivateFile(join(this.dir, 'power.log'), `${line}\n`, 0o600, 'a');
  }

  /** Reads the target's power directly (not through IPMI): the ground truth for tests and audits. */
  async targetPower(): Promise<'on' | 'off'> {
    const result = await run(join(this.dir, 'control'), ['get', 'power'], { timeoutMs: 25_000, node: this.name, phase: 'read target power' });
    return result.stdout.includes('power:1') ? 'on' : 'off';
  }

  // --- fault knobs ------------------------------------------------------------------------

  /** This device as the shared fault knobs see it. */
  private knobs(): KnobbedDevice {
    return { label: `BMC ${this.name}`, daemon: 'ipmi_sim', control: 'power control', dir: this.dir, pid: this.recordValue.pid, isOurs: (pid) => isOurSim(pid, this.dir), log: this.log };
  }

  /** Fault "BMC dead": SIGKILL its ipmi_sim. Heal with {@link revive}. */
  async kill(): Promise<void> {
    await killDevice(this.knobs());
  }

  /** Heals "BMC dead": starts ipmi_sim again on the same files and waits until it answers. */
  async revive(options: StartOptions = {}): Promise<void> {
    if (this.isRunning()) return;
    const pid = spawnSim(this.dir, this.name, this.log);
    this.recordValue = { ...this.recordValue, pid };
    writePrivateFile(join(this.dir, 'bmc.json'), `${JSON.stringify(this.recordValue, null, 2)}\n`);
    await waitAnswering(this.dir, pid, this.client({ retries: 0 }), options);
    this.log.info('heal: BMC revived', { pid });
  }

  /** Fault "BMC hung": SIGSTOP its ipmi_sim (requests arrive, nothing answers). Heal with {@link resume}. */
  async hang(): Promise<void> {
    await hangDevice(this.knobs());
  }

  /** Heals "BMC hung". */
  async resume(): Promise<void> {
    await resumeDevice(this.knobs());
  }

  /** Faults of the power control: slow, failing, or acknowledging and doing nothing. */
  setPowerControl(faults: Partial<PowerControlFaults>): void {
    setDeviceControl(this.knobs(), faults);
  }

  /** What is left of any BMC fault, in words; empty when the BMC is healthy (answering, normal power control). */
  leftovers(): string[] {
    return deviceLeftovers(this.knobs());
  }

  /** Heals every BMC fault: resumes, revives, and restores normal power control. */
  async heal(options: StartOptions = {}): Promise<void> {
    this.setPowerControl(NO_FAULTS);
    await this.resume();
    await this.revive(options);
  }

  /**
   * Stops ipmi_sim and removes the BMC's directory. Idempotent. A stand-in process target is a
   * test rig owned by the BMC and is powered off too; a libvirt domain is left to its lab.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const { pid } = this.recordValue;
    if (isOurSim(pid, this.dir)) {
      await stopDaemon(pid, `ipmi_sim of BMC ${this.name}`);
    }
    if (this.recordValue.target.kind === 'process' && existsSync(join(this.dir, 'control'))) {
      writePrivateFile(join(this.dir, 'faults.env'), renderFaultsEnv(NO_FAULTS));
      await run(join(this.dir, 'control'), ['set', 'power', '0'], { timeoutMs: 10_000, node: this.name, phase: 'bmc stop', reject: false });
    }
    // Only a directory the harness made is removed, never what a record or a name points elsewhere.
    if (isBmcDir(this.dir)) rmSync(this.dir, { recursive: true, force: true });
    else this.log.warn(`not removing ${this.dir}: it is not a BMC directory of the harness (<state>/bmc/<name>)`);
    this.stopped = true;
    this.log.info('BMC stopped');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}


/** Every BMC recorded under the state root. */
export function listBmcs(placement: BmcPlacement = {}): StartedVirtualBmc[] {
  const root = placement.stateRoot ?? stateRoot();
  const parent = join(root, 'bmc');
  if (!existsSync(parent)) return [];
  // Only entries named like a BMC: anything else under bmc/ is not the harness's to touch.
  return readdirSync(parent)
    .filter((name) => BMC_NAME.test(name) && existsSync(join(parent, name, 'bmc.json')))
    .map((name) => StartedVirtualBmc.attach(name, placement));
}

/**
 * Cleanup after anything, a crash included: stops every recorded BMC (optionally of one
 * session), then kills any ipmi_sim still running on a config under the state root (one that
 * crashed before its record was written). Returns the names stopped.
 */
export async function stopAllBmcs(placement: BmcPlacement & { session?: string } = {}): Promise<string[]> {
  const root = placement.stateRoot ?? stateRoot();
  const stoppedNames: string[] = [];
  for (const bmc of listBmcs(placement)) {
    if (placement.session && bmc.record.session !== placement.session) continue;
    await bmc.stop();
    stoppedNames.push(bmc.name);
  }
  const prefix = join(root, 'bmc') + '/';
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = commandLine(Number(entry));
    if (argv?.[0]?.endsWith('ipmi_sim') && argv.some((a) => a.startsWith(prefix))) {
      if (placement.session) continue; // unrecorded: its session is unknown; only a full cleanup takes it
      process.kill(Number(entry), 'SIGKILL');
      stoppedNames.push(`orphan ipmi_sim pid ${entry}`);
    }
  }
  return stoppedNames;
}
