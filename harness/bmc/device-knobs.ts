/**
 * The fault knobs every virtual power device has, whatever daemon serves it (the BMC's ipmi_sim,
 * the PDU's snmpd): dead, hung and resumed through signals to its daemon; slow, failing or lying
 * power control through its `faults.env`; and what is left of any of them, in words.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hangDaemon, killDaemon, processState, resumeDaemon } from '../core/daemon-signals.ts';
import type { Logger } from '../core/log.ts';
import { NO_FAULTS, renderFaultsEnv, type PowerControlFaults } from './sim-files.ts';

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
  writeFileSync(join(d.dir, 'faults.env'), renderFaultsEnv(next));
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
