/**
 * The files one virtual BMC's directory holds: ipmi_sim's LAN config and start-up commands, the
 * chassis-control wrapper and its power-target and fault settings. Pure functions of the config.
 */
import type { BmcConfig } from './bmc-config.ts';

/** Power-control fault knobs, read by chassis-control.sh on every request. */
export interface PowerControlFaults {
  /** normal: act; fail: every set request fails; ignore: acknowledge and do nothing. */
  mode: 'normal' | 'fail' | 'ignore';
  /** Delay before every set request is acted on. */
  delayMs: number;
}

export const NO_FAULTS: PowerControlFaults = { mode: 'normal', delayMs: 0 };

import { shellQuote } from '../core/shell-quote.ts';
export { shellQuote };

/** The GUID a BMC answers when its machine's identity is not known (a stand-in process). */
export const DEFAULT_LAN_GUID = 'a0b1c2d3e4f5061728394a5b6c7d8e9f';

/**
 * ipmi_sim's lan.conf. Contains the password: written mode 0600 and never copied to reports.
 * `guid` (32 hex digits, see machine-identity.ts) is what `Get System GUID` answers: the identity
 * of the machine this BMC powers.
 */
export function renderLanConf(config: BmcConfig, controlPath: string, guid = DEFAULT_LAN_GUID): string {
  if (!/^[0-9a-f]{32}$/.test(guid)) throw new Error('a BMC GUID is 32 lowercase hex digits');
  const auths = 'none md2 md5 straight';
  return [
    `# ha-chaos virtual BMC for ${config.name} (generated; holds a credential, mode 0600)`,
    `name "${config.name}"`,
    'set_working_mc 0x20',
    '  startlan 1',
    `    addr ${config.address} ${config.port}`,
    '    priv_limit admin',
    `    allowed_auths_callback ${auths}`,
    `    allowed_auths_user ${auths}`,
    `    allowed_auths_operator ${auths}`,
    `    allowed_auths_admin ${auths}`,
    `    guid ${guid}`,
    '  endlan',
    `  chassis_control "${controlPath}"`,
    `  user 2 true "${config.username}" "${config.password}" admin 10 none md2 md5 straight`,
    '',
  ].join('\n');
}

/** ipmi_sim's start-up commands: one BMC at IPMB address 0x20. */
export function renderEmu(): string {
  return ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02', 'mc_enable 0x20', ''].join('\n');
}

/** The wrapper ipmi_sim runs: the shared control script, bound to this BMC's directory. */
export function renderControlWrapper(scriptPath: string, bmcDir: string): string {
  return `#!/bin/sh\nexec ${shellQuote(scriptPath)} ${shellQuote(bmcDir)} "$@"\n`;
}

/** target.env: which machine the chassis control acts on. */
/** The power target's env file for chassis-control (a BMC's, or a machine a PDU's outlets feed). */
export function renderTargetEnv(config: Pick<BmcConfig, 'target'>, bmcDir: string): string {
  const t = config.target;
  if (t.kind === 'process') {
    return `TARGET_KIND=process\nPIDFILE=${shellQuote(`${bmcDir}/target.pid`)}\nSTART_CMD=${shellQuote(t.command)}\n`;
  }
  if (t.kind === 'docker') return `TARGET_KIND=docker\nCONTAINER=${shellQuote(t.container)}\n`;
  return `TARGET_KIND=libvirt\nLIBVIRT_URI=${shellQuote(t.uri ?? 'qemu:///system')}\nDOMAIN=${shellQuote(t.domain)}\n`;
}

/** faults.env: the power-control fault knobs. */
export function renderFaultsEnv(faults: PowerControlFaults): string {
  return `FAULT_MODE=${faults.mode}\nFAULT_DELAY_MS=${Math.max(0, Math.round(faults.delayMs))}\n`;
}

/** One line of a BMC's power log: a set request and what the control did with it. */
export interface PowerLogEntry {
  /** Host clock, epoch ms. */
  time: number;
  request: 'power' | 'reset' | 'shutdown' | string;
  value: string;
  result: 'done' | 'failed' | 'ignored' | 'unsupported';
  detail: string;
}

/** Parses power.log (JSON lines); a torn last line (crash mid-write) is skipped. */
export function parsePowerLog(text: string): PowerLogEntry[] {
  const entries: PowerLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as PowerLogEntry);
    } catch {
      // A line cut short by a crash carries no reliable fact.
    }
  }
  return entries;
}
