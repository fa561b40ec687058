/**
 * A client for any APC rPDU (PowerNet MIB) over SNMPv3 authNoPriv, with net-snmp's snmpget and
 * snmpset: the virtual PDU of the lab, or a real switched PDU of an existing cluster. The
 * passphrase stays in a 0600 client config file (`snmp.conf` in `confDir`), never in argv.
 */

import { join } from 'node:path';
import { run, type ExecResult } from '../core/exec.ts';
import type { Logger } from '../core/log.ts';
import { ValidationError } from '../core/schema.ts';
import { writePrivateFile } from '../core/host-files.ts';
import { ensureStateDir } from '../core/paths.ts';

/** APC PowerNet MIB (rPDU): what fence_apc_snmp reads and writes. */
export const APC_RPDU = {
  sysObjectId: '.1.3.6.1.4.1.318.1.3.4.5',
  control: '.1.3.6.1.4.1.318.1.1.12.3.3.1.1.4',
  name: '.1.3.6.1.4.1.318.1.1.12.3.5.1.1.2',
  state: '.1.3.6.1.4.1.318.1.1.12.3.5.1.1.4',
  on: 1,
  off: 2,
  reboot: 3,
} as const;

/**
 * The net-snmp client's snmp.conf for this PDU's user: the passphrase stays in a 0600 file. Both
 * values are one token of safe characters, checked here whatever checked them before: a newline
 * would start a directive of its own (`includeFile /etc/shadow`, `persistentDir ...`).
 */
export function renderClientConf(config: { username: string; password: string }): string {
  if (!/^[A-Za-z0-9._@-]{1,32}$/.test(config.username)) throw new ValidationError('snmp.conf', ['username: must be 1-32 letters, digits and . _ @ - (one token: a space, quote or newline would be syntax in snmp.conf)']);
  if (!/^[\x21-\x7e]{8,64}$/.test(config.password) || /["'\\#]/.test(config.password)) {
    throw new ValidationError('snmp.conf', ['passphrase: must be 8-64 printable ASCII characters without spaces, quotes, backslashes or # (one token in snmp.conf)']);
  }
  return ['defVersion 3', `defSecurityName ${config.username}`, 'defSecurityLevel authNoPriv', 'defAuthType SHA', `defAuthPassphrase ${config.password}`, ''].join('\n');
}

/** Why an SNMP request failed, in words a person can act on. */
export function describeSnmpFailure(result: Pick<ExecResult, 'stderr' | 'stdout' | 'timedOut' | 'reason'>): string {
  const text = `${result.stderr}\n${result.stdout}`;
  if (/authentication failure|unknown user name|authorizationError/i.test(text)) return 'wrong SNMPv3 user or passphrase';
  if (/timeout/i.test(text) || result.timedOut) return 'no answer (the PDU is dead, hung or unreachable)';
  if (/commitFailed|genError|resourceUnavailable/i.test(text)) return 'the PDU refused the request';
  if (/notWritable|noSuchName|noAccess/i.test(text)) return 'no such outlet';
  return result.reason;
}

export interface OutletResult {
  outlet: number;
  action: 'on' | 'off' | 'reboot';
  acknowledged: boolean;
  /** The outlet's state read afterwards; `unknown` when it could not be read. */
  state: 'on' | 'off' | 'unknown';
  durationMs: number;
  error?: string;
}

/** Where a PDU answers, without the secret. */
export interface PduAddress {
  name: string;
  address: string;
  port: number;
  username: string;
}

export class ApcPduClient {
  constructor(
    readonly endpoint: PduAddress,
    private readonly password: string,
    /** The directory of the client's snmp.conf (see {@link writeConf}). */
    private readonly confDir: string,
    private readonly log: Logger,
  ) {}

  /** Writes the client config (mode 0600) into `confDir`, for a PDU the harness does not run. */
  static writeConf(confDir: string, username: string, password: string): void {
    ensureStateDir(confDir);
    writePrivateFile(join(confDir, 'snmp.conf'), renderClientConf({ username, password }), 0o600);
  }

  /** One SNMP request with the net-snmp tools and this PDU's client config (the passphrase stays in a file). */
  private async snmp(tool: 'snmpget' | 'snmpset', args: string[], timeoutMs: number): Promise<ExecResult> {
    const { address, port } = this.endpoint;
    // 3 s per try, one retry: a set that a slow PDU is still carrying out is not sent twice.
    return run(tool, ['-m', '', '-Oeqn', '-t', '3', '-r', '1', `udp:${address}:${port}`, ...args], {
      timeoutMs,
      env: { SNMPCONFPATH: this.confDir, MIBS: '' },
      secrets: [this.password],
      node: this.endpoint.name,
      phase: `snmp ${tool}`,
      reject: false,
      log: this.log,
    });
  }

  /** An outlet's state, read over SNMP. Throws with the reason in words. */
  async outletStatus(outlet: number, timeoutMs = 10_000): Promise<'on' | 'off'> {
    const r = await this.snmp('snmpget', [`${APC_RPDU.state}.${outlet}`], timeoutMs);
    const value = r.ok ? r.stdout.trim().split(/\s+/).pop() : undefined;
    if (value === String(APC_RPDU.on)) return 'on';
    if (value === String(APC_RPDU.off)) return 'off';
    throw new Error(`PDU ${this.endpoint.name} outlet ${outlet} status: ${r.ok ? `unexpected reply ${JSON.stringify(r.stdout.slice(0, 80))}` : describeSnmpFailure(r)}`);
  }

  /** Switches an outlet through SNMP, then re-reads it (the request may have happened even if the reply was lost). */
  async outlet(outlet: number, action: 'on' | 'off' | 'reboot', timeoutMs = 20_000): Promise<OutletResult> {
    const started = performance.now();
    const value = action === 'on' ? APC_RPDU.on : action === 'off' ? APC_RPDU.off : APC_RPDU.reboot;
    const r = await this.snmp('snmpset', [`${APC_RPDU.control}.${outlet}`, 'i', String(value)], timeoutMs);
    const error = r.ok ? undefined : describeSnmpFailure(r);
    let state: OutletResult['state'] = 'unknown';
    try {
      state = await this.outletStatus(outlet);
    } catch {
      // unknown: said by `state`
    }
    return { outlet, action, acknowledged: r.ok, state, durationMs: Math.round(performance.now() - started), error };
  }

}
