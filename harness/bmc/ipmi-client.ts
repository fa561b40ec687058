/**
 * A client for any IPMI 2.0 BMC (ours or a real one), over ipmitool: power status, on, off,
 * cycle, reset, soft. The password travels in the environment (`-E`), never on the command line.
 * Failures are sorted into kinds a person can act on, and a failed power command is reported as
 * "power state unknown" followed by a re-read: if the BMC died mid-request, the action may still
 * have happened.
 */
import { run, type ExecResult } from '../core/exec.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import type { BmcEndpoint } from './bmc-config.ts';

export type PowerState = 'on' | 'off';
export type PowerAction = 'on' | 'off' | 'cycle' | 'reset' | 'soft';

/**
 * Why an IPMI request failed:
 * - `auth-or-unreachable`: the session was refused at once: wrong username or password, wrong
 *   cipher suite (IPMI gives the same answer for all of these).
 * - `timeout`: no answer within the retry window: BMC dead, hung, or a wrong address or port.
 * - `privilege`: the user may not do this.
 * - `failed`: the BMC answered with an error (e.g. its power control failed).
 * - `not-installed`: ipmitool is missing on this host.
 */
export type IpmiErrorKind = 'auth-or-unreachable' | 'timeout' | 'privilege' | 'failed' | 'not-installed';

const HINTS: Record<IpmiErrorKind, string> = {
  'auth-or-unreachable': 'the BMC refused the session: check the username, password and cipher suite (3)',
  timeout: 'no answer from the BMC: it is dead or hung, or the address/port is wrong',
  privilege: 'the BMC user lacks the privilege for this command',
  failed: 'the BMC answered with an error',
  'not-installed': 'ipmitool is not installed: apt-get install ipmitool',
};

/** A failed IPMI request, with its kind and the ipmitool run behind it. */
export class IpmiError extends Error {
  constructor(
    readonly kind: IpmiErrorKind,
    readonly endpoint: BmcEndpoint,
    readonly request: string,
    readonly exec: ExecResult,
  ) {
    const said = (exec.stderr || exec.stdout).trim().split('\n').slice(-2).join(' / ');
    super(`BMC ${endpoint.name} (${endpoint.address}:${endpoint.port}) ${request}: ${HINTS[kind]} [${kind}, ${exec.durationMs} ms]${said ? `: ${said}` : ''}`);
    this.name = 'IpmiError';
  }
}

/** The result of a power command. `acknowledged: false` means the outcome is not known from the reply. */
export interface PowerResult {
  action: PowerAction;
  acknowledged: boolean;
  /** The state read after the command; `unknown` when it could not be read. */
  state: PowerState | 'unknown';
  durationMs: number;
  error?: IpmiError;
  /** Set when the re-read after a failure also failed. */
  rereadError?: IpmiError;
}

export interface IpmiClientOptions {
  password: string;
  /** ipmitool -N: seconds before a retransmission. Default 1. */
  retransmitSeconds?: number;
  /** ipmitool -R: number of retries. Default 2. */
  retries?: number;
  /** Hard bound on each ipmitool run. Default 20 s. */
  timeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
}

/** Sorts a failed ipmitool run into a kind. Exported for unit tests on literal outputs. */
export function classifyIpmiFailure(result: Pick<ExecResult, 'stderr' | 'stdout' | 'durationMs' | 'timedOut' | 'reason'>): IpmiErrorKind {
  const text = `${result.stderr}\n${result.stdout}`;
  if (result.reason === 'command not found') return 'not-installed';
  if (result.timedOut) return 'timeout';
  if (/insufficient privilege|privilege level/i.test(text)) return 'privilege';
  // ipmitool -v names why the session failed: the BMC refused the credentials (its RAKP 2 says so),
  // or never answered (no authentication capabilities came back). Both end in the same last line.
  if (/RAKP \d+ (HMAC is invalid|message indicates an error)|insufficient resources for session|unauthorized name/i.test(text)) return 'auth-or-unreachable';
  if (/Get Auth Capabilities error|Error issuing Get Channel Authentication Capabilities/i.test(text)) return 'timeout';
  if (/unable to establish|no response|activate session|get session challenge/i.test(text)) {
    // Without those words: a refused session comes back in tens of milliseconds; a silent BMC only after its retries.
    return result.durationMs >= 900 ? 'timeout' : 'auth-or-unreachable';
  }
  return 'failed';
}

/** Parses `Chassis Power is on|off`. */
export function parsePowerStatus(stdout: string): PowerState | undefined {
  const m = /Chassis Power is (on|off)/i.exec(stdout);
  return m ? (m[1]!.toLowerCase() as PowerState) : undefined;
}

/** An IPMI lanplus client for one BMC. */
export class IpmiClient {
  private readonly log: Logger;

  constructor(
    readonly endpoint: BmcEndpoint,
    private readonly options: IpmiClientOptions,
  ) {
    this.log = (options.log ?? silentLogger).child(`ipmi:${endpoint.name}`);
  }

  /** Reads the chassis power state. Throws {@link IpmiError}. */
  async status(): Promise<PowerState> {
    const result = await this.ipmitool(['chassis', 'power', 'status'], 'power status');
    const state = parsePowerStatus(result.stdout);
    if (!state) throw new IpmiError('failed', this.endpoint, 'power status', { ...result, stderr: `unexpected reply: ${result.stdout}` });
    return state;
  }

  /**
   * Sends a power command. Never throws for an IPMI failure: it reports the failure, then
   * re-reads the power state, because the action may have happened anyway.
   */
  async power(action: PowerAction): Promise<PowerResult> {
    const started = performance.now();
    try {
      await this.ipmitool(['chassis', 'power', action], `power ${action}`);
      let state: PowerState | 'unknown' = 'unknown';
      let rereadError: IpmiError | undefined;
      try {
        state = await this.status();
      } catch (error) {
        if (!(error instanceof IpmiError)) throw error;
        rereadError = error;
      }
      return { action, acknowledged: true, state, durationMs: Math.round(performance.now() - started), rereadError };
    } catch (error) {
      if (!(error instanceof IpmiError)) throw error;
      this.log.warn(`power ${action} not acknowledged: power state unknown; re-reading`, { kind: error.kind });
      try {
        const state = await this.status();
        return { action, acknowledged: false, state, durationMs: Math.round(performance.now() - started), error };
      } catch (reread) {
        if (!(reread instanceof IpmiError)) throw reread;
        return { action, acknowledged: false, state: 'unknown', durationMs: Math.round(performance.now() - started), error, rereadError: reread };
      }
    }
  }

  private async ipmitool(command: string[], request: string): Promise<ExecResult> {
    const { address, port, username } = this.endpoint;
    const args = [
      // -v: ipmitool says why a session failed (refused credentials or no answer), not only that it did.
      '-v', '-I', 'lanplus', '-C', '3',
      '-H', address, '-p', String(port), '-U', username, '-E',
      '-N', String(this.options.retransmitSeconds ?? 1), '-R', String(this.options.retries ?? 2),
      ...command,
    ];
    const result = await run('ipmitool', args, {
      timeoutMs: this.options.timeoutMs ?? 20_000,
      signal: this.options.signal,
      env: { IPMI_PASSWORD: this.options.password },
      secrets: [this.options.password],
      node: this.endpoint.name,
      phase: `ipmi ${request}`,
      reject: false,
      log: this.log,
    });
    if (result.cancelled) throw new Error(`ipmi ${request} to ${this.endpoint.name} cancelled`);
    if (!result.ok) throw new IpmiError(classifyIpmiFailure(result), this.endpoint, request, result);
    return result;
  }
}
