/**
 * The virtual switched PDU: net-snmp's `snmpd`, serving SNMPv3 (authNoPriv, SHA) on its own
 * address and port, with the outlets of an APC rack PDU (PowerNet MIB, `pdu-outlets.py` through
 * pass_persist). Each outlet feeds one power supply of a machine (a node's libvirt domain, or a
 * stand-in process in tests); a machine loses power when every outlet feeding it is off.
 * `fence_apc_snmp`, `snmpget` and `snmpset` work against it unchanged.
 *
 * Like the virtual BMC: `new VirtualPdu(config).start()` -> {@link StartedVirtualPdu}
 * (AsyncDisposable, idempotent `stop()`); each PDU lives in `<state>/pdu/<name>/` (config, pid,
 * outlet state, power log), so `StartedVirtualPdu.attach(name)` reaches it from another process
 * and {@link stopAllPdus} finds every leftover after a crash. The SNMP credential is only in
 * files of mode 0600 (snmpd.conf, the client's snmp.conf), never on a command line.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, isAlive, run, spawnDaemon } from '../core/exec.ts';
import { assertUdpPortFree, stopDaemon } from '../core/daemon-signals.ts';
import { deviceDir, deviceLeftovers, hangDevice, isDeviceDir, killDevice, readDeviceRecord, resumeDevice, setDeviceControl, type KnobbedDevice } from '../bmc/device-knobs.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { stateRoot, ensureStateDir } from '../core/paths.ts';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { ValidationError } from '../core/schema.ts';
import { registerSecret } from '../core/secrets.ts';
import { done, notYet, StopWaiting, waitFor } from '../core/wait.ts';
import { addressProblem, BMC_NAME, BMC_NAME_RULE, passwordProblem, type PowerTargetSpec } from '../bmc/bmc-config.ts';
import { CHASSIS_CONTROL } from '../bmc/virtual-bmc.ts';
import { NO_FAULTS, renderControlWrapper, renderFaultsEnv, renderTargetEnv, type PowerControlFaults } from '../bmc/sim-files.ts';

export { APC_RPDU, describeSnmpFailure, renderClientConf, type OutletResult } from './apc-pdu-client.ts';
import { APC_RPDU, ApcPduClient, renderClientConf, type OutletResult } from './apc-pdu-client.ts';
import { pathProblem, writePrivateFile } from '../core/host-files.ts';

/** The outlets' pass_persist program, shipped beside this file. */
export const PDU_OUTLETS = fileURLToPath(new URL('./pdu-outlets.py', import.meta.url));

/** One outlet: its number on the PDU, the node whose power supply it feeds, and that machine. */
export interface PduOutlet {
  outlet: number;
  node: string;
  /** The outlet's label on the PDU (fence_apc_snmp can address an outlet by it), e.g. `node1-psu1`. */
  label: string;
  target: PowerTargetSpec;
}

export interface PduConfig {
  name: string;
  address: string;
  /** UDP port of the SNMP agent. */
  port: number;
  /** The SNMPv3 user (authNoPriv, SHA). */
  username: string;
  /** Its authentication passphrase (SNMPv3 wants at least 8 characters). */
  password: string;
  outlets: PduOutlet[];
  /**
   * Every supply of each node this PDU feeds, on any PDU (`pdu1:1`, `pdu2:1`): a node fed by two
   * PDUs is off only when both outlets are. Default: this PDU's own outlets.
   */
  supplies?: Record<string, string[]>;
}

/** Where the machines the PDUs of one state root feed live (shared by those PDUs: one machine, several supplies). */
export function machinesDir(root: string): string {
  return join(root, 'pdu-machines');
}

/** Where a PDU answers, without the secret. */
export interface PduEndpoint {
  name: string;
  address: string;
  port: number;
  username: string;
}

/** What `<state>/pdu/<name>/pdu.json` records: everything but the secret. */
export interface PduRecord extends PduEndpoint {
  pid: number;
  session: string;
  createdAt: string;
  outlets: PduOutlet[];
}

/** One set request an outlet received (power.log), host clock. */
export interface OutletLogEntry {
  time: number;
  outlet: number;
  node: string;
  request: 'power';
  /** `0` off, `1` on, `reset` reboot. */
  value: string;
  result: 'done' | 'failed' | 'ignored';
  detail: string;
}

export interface PduPlacement {
  /** Default: {@link stateRoot}(). */
  stateRoot?: string;
  log?: Logger;
}

/** The problems of a PDU config, in words (empty when it is valid). */
export function pduConfigProblems(config: PduConfig): string[] {
  const problems: string[] = [];
  if (!BMC_NAME.test(config.name)) problems.push(`name: a PDU name is ${BMC_NAME_RULE}`);
  const address = addressProblem(config.address);
  if (address) problems.push(`address: ${address}`);
  if (!Number.isInteger(config.port) || config.port < 1024 || config.port > 65535) problems.push('port: a UDP port from 1024 to 65535');
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(config.username)) problems.push('username: 1-32 lowercase letters, digits, - and _, starting with a letter');
  const password = passwordProblem(config.password);
  if (password) problems.push(password.startsWith('password') ? password : `password: ${password}`);
  else if (Buffer.byteLength(config.password) < 8) problems.push('password: SNMPv3 wants at least 8 bytes');
  else if (config.password.includes('#')) problems.push('password: no # (snmpd.conf would read the rest as a comment)');
  if (config.outlets.length === 0) problems.push('outlets: at least one');
  const numbers = config.outlets.map((o) => o.outlet);
  for (const o of config.outlets) {
    if (!Number.isInteger(o.outlet) || o.outlet < 1 || o.outlet > 48) problems.push(`outlets: outlet ${o.outlet} is not a number from 1 to 48`);
    if (!BMC_NAME.test(o.node)) problems.push(`outlets: node ${JSON.stringify(o.node)} is not a node name (${BMC_NAME_RULE})`);
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(o.label)) problems.push(`outlets: label ${JSON.stringify(o.label)}: 1-32 letters, digits, . _ -`);
  }
  if (new Set(numbers).size !== numbers.length) problems.push('outlets: an outlet number appears twice');
  return problems;
}

/** snmpd.conf of a PDU: one SNMPv3 user with read-write access, the APC identity, the outlets. */
export function renderSnmpdConf(config: PduConfig, dir: string, python = '/usr/bin/python3'): string {
  const dirProblem = pathProblem(dir);
  if (dirProblem || /\s/.test(dir)) throw new ValidationError('snmpd.conf', [`the PDU directory: ${dirProblem ?? 'contains white space'}; snmpd.conf cannot name it`]);
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(config.name)) throw new ValidationError('snmpd.conf', ['name: must be 1-31 lowercase letters, digits and dashes']);
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(config.address) || !Number.isInteger(config.port)) throw new ValidationError('snmpd.conf', ['address: must be an IPv4 address and a port']);
  renderClientConf(config); // the same rules for the user and passphrase as the client's file
  return [
    '# generated by ha-chaos: a virtual switched PDU (APC rPDU outlets over SNMPv3)',
    `agentAddress udp:${config.address}:${config.port}`,
    `createUser ${config.username} SHA "${config.password}"`,
    `rwuser ${config.username} auth`,
    `sysObjectID ${APC_RPDU.sysObjectId}`,
    `sysDescr ha-chaos virtual PDU ${config.name}`,
    `sysName ${config.name}`,
    `pass_persist .1.3.6.1.4.1.318 ${python} ${PDU_OUTLETS} ${dir}`,
    '',
  ].join('\n');
}

/** Parses power.log (JSON lines); a torn last line (crash mid-write) is skipped. */
export function parseOutletLog(text: string): OutletLogEntry[] {
  const entries: OutletLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as OutletLogEntry;
      if (typeof e.time === 'number' && typeof e.outlet === 'number' && typeof e.node === 'string') entries.push(e);
    } catch {
      // A line cut short by a crash carries no reliable fact.
    }
  }
  return entries;
}

const pduDir = (root: string, name: string) => deviceDir(root, 'pdu', name);
const isPduDir = (dir: string) => isDeviceDir(dir, 'pdu');
const readRecord = (dir: string) => readDeviceRecord<PduRecord>(dir, 'pdu', (r) => typeof r.pid === 'number' && typeof r.name === 'string' && Array.isArray(r.outlets), 'name, address, port, username, pid and outlets');

function isOurSnmpd(pid: number, dir: string): boolean {
  const argv = commandLine(pid);
  return Boolean(argv && isAlive(pid) && argv[0]?.endsWith('snmpd') && argv.includes(join(dir, 'snmpd.conf')));
}


function spawnSnmpd(dir: string, name: string, log: Logger): number {
  // -C: only our config; -m '': load no MIB files (numeric OIDs only, no parser noise); -f: stay
  // in the foreground of its own session (spawnDaemon detaches it).
  const pid = spawnDaemon('snmpd', ['-f', '-C', '-c', join(dir, 'snmpd.conf'), '-Lf', join(dir, 'snmpd.log'), '-m', '', '-p', join(dir, 'snmpd.pid')], {
    logFile: join(dir, 'snmpd.out'),
    cwd: dir,
    env: { SNMP_PERSISTENT_DIR: join(dir, 'persist'), MIBS: '' },
    node: name,
    log,
  });
  return pid;
}

/** A PDU that is configured but not started. */
export class VirtualPdu {
  private readonly root: string;
  private readonly log: Logger;
  private readonly session: string;

  constructor(
    readonly config: PduConfig,
    placement: PduPlacement & { session?: string } = {},
  ) {
    const problems = pduConfigProblems(config);
    if (problems.length) throw new ValidationError(`PDU ${config.name}`, problems);
    this.root = placement.stateRoot ?? stateRoot();
    this.log = (placement.log ?? silentLogger).child(`pdu:${config.name}`);
    this.session = placement.session ?? 'manual';
    registerSecret(config.password);
  }

  /** Writes the PDU's directory, starts snmpd, waits until it answers SNMP; on failure removes what it made. */
  async start(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<StartedVirtualPdu> {
    const { config } = this;
    const dir = pduDir(this.root, config.name);
    if (existsSync(join(dir, 'pdu.json'))) {
      const existing = StartedVirtualPdu.attach(config.name, { stateRoot: this.root, log: this.log });
      if (existing.isRunning()) throw new Error(`PDU ${config.name} is already running (pid ${existing.record.pid}, port ${existing.record.port}); stop it first`);
      await existing.stop();
    }
    await assertUdpPortFree(config.address, config.port, `PDU ${config.name}`);
    rmSync(dir, { recursive: true, force: true });
    ensureStateDir(join(dir, 'persist'));
    chmodSync(dir, 0o700);
    writePrivateFile(join(dir, 'snmpd.conf'), renderSnmpdConf(config, dir), 0o600);
    writePrivateFile(join(dir, 'snmp.conf'), renderClientConf(config), 0o600);
    writePrivateFile(join(dir, 'password'), config.password, 0o600);
    const own = (node: string) => config.outlets.filter((o) => o.node === node).map((o) => `${config.name}:${o.outlet}`);
    const nodes = [...new Set(config.outlets.map((o) => o.node))];
    const supplies = Object.fromEntries(nodes.map((n) => [n, config.supplies?.[n] ?? own(n)]));
    for (const n of nodes) if (!own(n).every((s) => supplies[n]!.includes(s))) throw new ValidationError(`PDU ${config.name}`, [`supplies: ${n}'s list must hold its outlets on this PDU (${own(n).join(', ')})`]);
    const machines = machinesDir(this.root);
    writePrivateFile(join(dir, 'outlets.json'), `${JSON.stringify({ pdu: config.name, machines, outlets: config.outlets.map(({ outlet, node, label }) => ({ outlet, node, label })), supplies }, null, 2)}\n`);
    writePrivateFile(join(dir, 'faults.env'), renderFaultsEnv(NO_FAULTS));
    writePrivateFile(join(dir, 'power.log'), '');
    // One machine per node, whatever number of outlets (on however many PDUs) feed it, shared by
    // those PDUs; its control is the BMC's chassis control. A second PDU finds it made.
    for (const node of nodes) {
      const machine = join(machines, node);
      ensureStateDir(join(machine, 'supplies'));
      const target = config.outlets.find((o) => o.node === node)!.target;
      writePrivateFile(join(machine, 'control'), renderControlWrapper(CHASSIS_CONTROL, machine), 0o755);
      writePrivateFile(join(machine, 'target.env'), renderTargetEnv({ target }, machine));
      writePrivateFile(join(machine, 'faults.env'), renderFaultsEnv(NO_FAULTS));
      if (!existsSync(join(machine, 'power.log'))) writePrivateFile(join(machine, 'power.log'), '');
      // A new PDU's relays are on.
      for (const s of own(node)) rmSync(join(machine, 'supplies', s), { force: true });
    }
    let pid: number | undefined;
    try {
      pid = spawnSnmpd(dir, config.name, this.log);
      const record: PduRecord = { name: config.name, address: config.address, port: config.port, username: config.username, pid, session: this.session, createdAt: new Date().toISOString(), outlets: config.outlets };
      writePrivateFile(join(dir, 'pdu.json'), `${JSON.stringify(record, null, 2)}\n`);
      const started = new StartedVirtualPdu(record, config.password, dir, this.log);
      await started.waitAnswering(options);
      this.log.info(`PDU serving SNMPv3 on ${config.address}:${config.port}`, { pid, outlets: config.outlets.map((o) => `${o.outlet}=${o.label}`).join(' ') });
      return started;
    } catch (error) {
      if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
}

/** The result of an outlet command through SNMP (what a person or a fault does at the PDU). */
/** A running virtual PDU, with the fault knobs the fault library uses. */
export class StartedVirtualPdu implements AsyncDisposable {
  private stopped = false;

  constructor(
    private recordValue: PduRecord,
    private readonly password: string,
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  static attach(name: string, placement: PduPlacement = {}): StartedVirtualPdu {
    const root = placement.stateRoot ?? stateRoot();
    const dir = pduDir(root, name);
    const record = readRecord(dir);
    if (!record) throw new Error(`no PDU named ${name} (nothing in ${dir})`);
    const password = registerSecret(readInputFile(join(dir, 'password'), { maxBytes: INPUT_LIMITS.state, what: 'PDU password file', kind: 'state' }));
    return new StartedVirtualPdu(record, password, dir, (placement.log ?? silentLogger).child(`pdu:${name}`));
  }

  get record(): PduRecord {
    return this.recordValue;
  }
  get name(): string {
    return this.recordValue.name;
  }
  get endpoint(): PduEndpoint {
    const { name, address, port, username } = this.recordValue;
    return { name, address, port, username };
  }
  /** The machines this PDU's outlets feed (shared with the other PDUs of its state root). */
  private get machines(): string {
    return machinesDir(dirname(dirname(this.dir)));
  }

  /** The outlets feeding `node`. */
  outletsOf(node: string): PduOutlet[] {
    return this.recordValue.outlets.filter((o) => o.node === node);
  }

  /** The credential, for handing to a fence agent (never log it). */
  secret(): string {
    return this.password;
  }

  isRunning(): boolean {
    return isOurSnmpd(this.recordValue.pid, this.dir);
  }

  /** The SNMP client of this PDU (its config, with the passphrase, is the PDU directory's snmp.conf). */
  private get client(): ApcPduClient {
    return new ApcPduClient(this.endpoint, this.password, this.dir, this.log);
  }

  /** An outlet's state, read over SNMP. Throws with the reason in words. */
  outletStatus(outlet: number, timeoutMs = 10_000): Promise<'on' | 'off'> {
    return this.client.outletStatus(outlet, timeoutMs);
  }

  /** Switches an outlet through SNMP, then re-reads it (the request may have happened even if the reply was lost). */
  outlet(outlet: number, action: 'on' | 'off' | 'reboot', timeoutMs = 20_000): Promise<OutletResult> {
    return this.client.outlet(outlet, action, timeoutMs);
  }

  /** Waits until the PDU answers a real SNMPv3 request, or its snmpd dies. */
  async waitAnswering(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const first = this.recordValue.outlets[0]!.outlet;
    await waitFor(
      `PDU ${this.name} answering SNMP on ${this.recordValue.address}:${this.recordValue.port}`,
      async () => {
        if (!isAlive(this.recordValue.pid)) {
          const out = ['snmpd.out', 'snmpd.log'].map((f) => (existsSync(join(this.dir, f)) ? readFileSync(join(this.dir, f), 'utf8').trim() : '')).join(' ');
          throw new StopWaiting(`snmpd of PDU ${this.name} exited during start-up: ${out.split('\n').slice(-3).join(' / ')}`);
        }
        try {
          return done(await this.outletStatus(first, 5000));
        } catch (error) {
          return notYet((error as Error).message);
        }
      },
      { timeoutMs: options.timeoutMs ?? 15_000, intervalMs: 200, signal: options.signal },
    );
  }

  /** Every outlet request, in order, host clock: the ground truth of what the PDU did. */
  /**
   * Records in the power log a power change made to `node`'s machine outside this PDU (a repair
   * that started the VM through the hypervisor), one line per outlet feeding it: the log stays the
   * one account of the machine's power, with who did it (`detail`: `outside: <by>`).
   */
  recordOutside(node: string, value: '0' | '1', by: string): void {
    const lines = this.outletsOf(node).map(({ outlet }) => JSON.stringify({ time: Date.now(), outlet, node, request: 'power', value, result: 'done', detail: `outside: ${by}` } satisfies OutletLogEntry));
    if (lines.length) writePrivateFile(join(this.dir, 'power.log'), `${lines.join('\n')}\n`, 0o600, 'a');
  }

  powerLog(): OutletLogEntry[] {
    const file = join(this.dir, 'power.log');
    return existsSync(file) ? parseOutletLog(readFileSync(file, 'utf8')) : [];
  }

  /** The machine's power, read directly (not through SNMP): the ground truth for tests and audits. */
  async targetPower(node: string): Promise<'on' | 'off'> {
    const control = join(this.machines, node, 'control');
    const result = await run(control, ['get', 'power'], { timeoutMs: 25_000, node, phase: 'read target power' });
    return result.stdout.includes('power:1') ? 'on' : 'off';
  }

  // --- fault knobs (as the BMC's) ----------------------------------------------------------

  /** This device as the shared fault knobs see it. */
  private knobs(): KnobbedDevice {
    return { label: `PDU ${this.name}`, daemon: 'snmpd', control: 'outlet control', dir: this.dir, pid: this.recordValue.pid, isOurs: (pid) => isOurSnmpd(pid, this.dir), log: this.log };
  }

  /** "PDU dead": SIGKILL its snmpd (its outlets keep their state, as a real PDU's relays do). */
  async kill(): Promise<void> {
    await killDevice(this.knobs());
  }

  async revive(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.isRunning()) return;
    const pid = spawnSnmpd(this.dir, this.name, this.log);
    this.recordValue = { ...this.recordValue, pid };
    writePrivateFile(join(this.dir, 'pdu.json'), `${JSON.stringify(this.recordValue, null, 2)}\n`);
    await this.waitAnswering(options);
    this.log.info('heal: PDU revived', { pid });
  }

  async hang(): Promise<void> {
    await hangDevice(this.knobs());
  }

  async resume(): Promise<void> {
    await resumeDevice(this.knobs());
  }

  /** Faults of the outlet control: slow (every set request delayed), failing, or acknowledging and doing nothing. */
  setPowerControl(faults: Partial<PowerControlFaults>): void {
    setDeviceControl(this.knobs(), faults);
  }

  /**
   * Mains power lost between the outlets and `node`'s machine (its power supplies have none: a
   * loss of mains at the node, with the PDU fed apart): the outlets still switch, and say so in
   * the power log, but the machine stays off whatever they do. `true` gives it back; the machine
   * does not start by itself then (its BMC, or an outlet switched on, powers it).
   */
  setMains(node: string, on: boolean): void {
    if (!this.outletsOf(node).length) throw new Error(`no outlet of PDU ${this.name} feeds ${node}`);
    const dir = join(this.machines, node);
    writePrivateFile(join(dir, 'faults.env'), renderFaultsEnv(on ? NO_FAULTS : { mode: 'ignore', delayMs: 0 }));
    this.log.info(on ? `mains power back at ${node}'s power supplies` : `${node}'s power supplies lost mains power (its outlets still switch, feeding nothing)`);
  }

  /** The nodes whose power supplies have no mains (see {@link setMains}). */
  private withoutMains(): string[] {
    const nodes = [...new Set(this.recordValue.outlets.map((o) => o.node))];
    return nodes.filter((node) => {
      const file = join(this.machines, node, 'faults.env');
      return existsSync(file) && readFileSync(file, 'utf8') !== renderFaultsEnv(NO_FAULTS);
    });
  }

  leftovers(): string[] {
    return [...deviceLeftovers(this.knobs()), ...this.withoutMains().map((node) => `PDU ${this.name}: ${node}'s power supplies have no mains power`)];
  }

  async heal(options: { timeoutMs?: number } = {}): Promise<void> {
    this.setPowerControl(NO_FAULTS);
    for (const node of this.withoutMains()) this.setMains(node, true);
    await this.resume();
    await this.revive(options);
  }

  /** Stops snmpd and removes the PDU's directory. Idempotent. Stand-in process machines are powered off; libvirt domains are left to their lab. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const { pid } = this.recordValue;
    if (isOurSnmpd(pid, this.dir)) {
      await stopDaemon(pid, `snmpd of PDU ${this.name}`);
    }
    for (const node of new Set(this.recordValue.outlets.filter((o) => o.target.kind === 'process').map((o) => o.node))) {
      const control = join(this.machines, node, 'control');
      if (existsSync(control)) await run(control, ['set', 'power', '0'], { timeoutMs: 10_000, node, phase: 'pdu stop', reject: false });
    }
    if (isPduDir(this.dir)) {
      rmSync(this.dir, { recursive: true, force: true });
      // The shared machines go with the last PDU of the state root.
      const parent = dirname(this.dir);
      if (!existsSync(parent) || !readdirSync(parent).some((n) => existsSync(join(parent, n, 'pdu.json')))) rmSync(machinesDir(dirname(parent)), { recursive: true, force: true });
    } else this.log.warn(`not removing ${this.dir}: it is not a PDU directory of the harness (<state>/pdu/<name>)`);
    this.stopped = true;
    this.log.info('PDU stopped');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Every PDU recorded under the state root. */
export function listPdus(placement: PduPlacement = {}): StartedVirtualPdu[] {
  const parent = join(placement.stateRoot ?? stateRoot(), 'pdu');
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((name) => BMC_NAME.test(name) && existsSync(join(parent, name, 'pdu.json')))
    .map((name) => StartedVirtualPdu.attach(name, placement));
}

/** Cleanup after anything, a crash included: stops every recorded PDU, then any snmpd still running on a config under the state root. */
export async function stopAllPdus(placement: PduPlacement = {}): Promise<string[]> {
  const root = placement.stateRoot ?? stateRoot();
  const stopped: string[] = [];
  for (const pdu of listPdus(placement)) {
    await pdu.stop();
    stopped.push(pdu.name);
  }
  const prefix = join(root, 'pdu') + '/';
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = commandLine(Number(entry));
    if (argv?.[0]?.endsWith('snmpd') && argv.some((a) => a.startsWith(prefix))) {
      process.kill(Number(entry), 'SIGKILL');
      stopped.push(`orphan snmpd pid ${entry}`);
    }
  }
  return stopped;
}
