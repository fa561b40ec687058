/**
 * The fault knobs every virtual power device has, whatever daemon serves it (the BMC's ipmi_sim,
 * the PDU's snmpd): dead, hung and resumed through signals to its daemon; slow, failing or lying
 * power control through its `faults.env`; and what is left of any of them, in words.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { INPUT_LIMITS, readInputFile, UnreadableInputError } from '../core/input-file.ts';
import { parseJson } from '../core/json-file.ts';
import { ValidationError } from '../core/schema.ts';
import { BMC_NAME, BMC_NAME_RULE } from './bmc-config.ts';
import { hangDaemon, killDaemon, processState, resumeDaemon } from '../core/daemon-signals.ts';
import type { Logger } from '../core/log.ts';
import { NO_FAULTS, renderFaultsEnv, type PowerControlFaults } from './sim-files.ts';
import { writePrivateFile } from '../core/host-files.ts';

/** One device as its knobs see it. */
export interface KnobbedDevice {
  /** `BMC node1`, `PDU pdu1`. */
  label: string;
  /** The daemon's name for messages: `ipmi_sim`, `snmpd`. */
  daemon: string;
  /** What its faults.env governs, for messages: `power control`, `outlet control`. */
  control: string;
  /** The device's directory (faults.env lives there). */
  dir: string;
  pid: number;
  /** True when `pid` is this device's daemon (never signal anything else). */
  isOurs: (pid: number) => boolean;
  log: Logger;
}

/** "Dead": SIGKILL the daemon. */
export async function killDevice(d: KnobbedDevice): Promise<void> {
  if (d.isOurs(d.pid)) await killDaemon(d.pid, `${d.daemon} of ${d.label}`);
  d.log.info(`fault: ${d.label.split(' ')[0]} killed (dead)`);
}

/** "Hung": SIGSTOP the daemon (requests arrive, nothing answers). */
export async function hangDevice(d: KnobbedDevice): Promise<void> {
  if (d.isOurs(d.pid)) await hangDaemon(d.pid, `${d.daemon} of ${d.label}`);
  d.log.info(`fault: ${d.label.split(' ')[0]} hung (SIGSTOP)`);
}

/** Heals "hung". */
export async function resumeDevice(d: KnobbedDevice): Promise<void> {
  if (d.isOurs(d.pid)) await resumeDaemon(d.pid, `${d.daemon} of ${d.label}`);
  d.log.info(`heal: ${d.label.split(' ')[0]} resumed (SIGCONT)`);
}

/** Slow, failing, or acknowledging-and-doing-nothing power control (NO_FAULTS: normal). */
export function setDeviceControl(d: Pick<KnobbedDevice, 'dir' | 'control' | 'log'>, faults: Partial<PowerControlFaults>): void {
  const next = { ...NO_FAULTS, ...faults };
  writePrivateFile(join(d.dir, 'faults.env'), renderFaultsEnv(next));
  d.log.info(`${d.control} set`, { mode: next.mode, delayMs: next.delayMs });
}

/** What is left of any fault of the device, in words; empty when it answers with normal control. */
export function deviceLeftovers(d: KnobbedDevice): string[] {
  const out: string[] = [];
  if (!d.isOurs(d.pid)) out.push(`${d.label}: ${d.daemon} (pid ${d.pid}) is not running`);
  else if (processState(d.pid) === 'T') out.push(`${d.label}: ${d.daemon} is stopped (SIGSTOP)`);
  const faults = existsSync(join(d.dir, 'faults.env')) ? readFileSync(join(d.dir, 'faults.env'), 'utf8') : '';
  if (faults !== renderFaultsEnv(NO_FAULTS)) out.push(`${d.label}: ${d.control} not normal (${faults.trim().replace(/\n/g, ' ') || 'no faults.env'})`);
  return out;
}

/**
 * The directory of the device `name` of `kind` (`bmc`, `pdu`) under `root`. The name becomes a
 * path, so only a device name is accepted (`../victim` would have let a stop remove a directory
 * outside the state root).
 */
export function deviceDir(root: string, kind: 'bmc' | 'pdu', name: string): string {
  const what = kind.toUpperCase();
  if (!BMC_NAME.test(name)) throw new ValidationError(`${what} name ${JSON.stringify(name.slice(0, 64))}`, [`is not a ${what} name: a ${what} name is ${BMC_NAME_RULE}`]);
  return join(root, kind, name);
}

/** True when `dir` is a device directory the harness made: `<root>/<kind>/<a device name>`. */
export function isDeviceDir(dir: string, kind: 'bmc' | 'pdu'): boolean {
  return basename(dirname(dir)) === kind && BMC_NAME.test(basename(dir));
}

/**
 * The record (`<kind>.json`) a device's directory holds, read as strictly as any input;
 * undefined when there is none. `valid` checks its shape; `needs` says what it must hold.
 */
export function readDeviceRecord<T>(dir: string, kind: 'bmc' | 'pdu', valid: (record: Partial<T>) => boolean, needs: string): T | undefined {
  const file = join(dir, `${kind}.json`);
  let text: string;
  try {
    text = readInputFile(file, { maxBytes: INPUT_LIMITS.state, what: `${kind.toUpperCase()} record`, kind: 'state' });
  } catch (error) {
    if (error instanceof UnreadableInputError && error.reason === 'missing') return undefined;
    throw error;
  }
  const record = parseJson(text, file).value as Partial<T> | null;
  if (typeof record !== 'object' || record === null || !valid(record)) {
    throw new ValidationError(file, [`is not a ${kind.toUpperCase()} record (it needs ${needs}); remove the directory by hand if it is not the harness's`]);
  }
  return record as T;
}
