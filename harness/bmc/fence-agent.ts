/**
 * Runs Pacemaker's fence agents (`fence_ipmilan` against a BMC, `fence_apc_snmp` against a PDU)
 * exactly as Pacemaker does: their arguments (password included) on stdin as `key=value` lines,
 * never on the command line.
 */
import { run, type ExecResult } from '../core/exec.ts';
import type { Logger } from '../core/log.ts';
import type { BmcEndpoint } from './bmc-config.ts';

export type FenceAction = 'status' | 'on' | 'off' | 'reboot' | 'monitor';

export interface FenceOptions {
  password: string;
  /** Seconds the agent waits after on/off (its default is 2). */
  powerWait?: number;
  /** Seconds the agent waits for a state change (its default is 20). */
  powerTimeout?: number;
  timeoutMs?: number;
  log?: Logger;
  signal?: AbortSignal;
}

/** What the agent said. For `status`, fence agents exit 0 when on, 2 when off, 1 on error. */
export interface FenceResult {
  action: FenceAction;
  ok: boolean;
  power?: 'on' | 'off';
  exec: ExecResult;
}

/** Runs `fence_ipmilan` with cipher suite 3 (ipmi_sim answers no cipher-suite query). */
export async function fenceIpmilan(endpoint: BmcEndpoint, action: FenceAction, options: FenceOptions): Promise<FenceResult> {
  return fenceAgent('fence_ipmilan', endpoint.name, [`ip=${endpoint.address}`, `ipport=${endpoint.port}`, `username=${endpoint.username}`, 'lanplus=1', 'cipher=3'], action, options);
}

/** Runs `fence_apc_snmp` (SNMPv3, authNoPriv, SHA) on one outlet of a PDU, as the cluster's PDU devices do. */
export async function fenceApcSnmp(endpoint: { name: string; address: string; port: number; username: string }, outlet: number | string, action: FenceAction, options: FenceOptions): Promise<FenceResult> {
  const lines = [`ip=${endpoint.address}`, `ipport=${endpoint.port}`, 'snmp_version=3', `username=${endpoint.username}`, 'snmp_sec_level=authNoPriv', 'snmp_auth_prot=SHA', `plug=${outlet}`];
  return fenceAgent('fence_apc_snmp', `${endpoint.name}:${outlet}`, lines, action, options);
}

async function fenceAgent(agent: string, target: string, device: string[], action: FenceAction, options: FenceOptions): Promise<FenceResult> {
  const lines = [
    ...device,
    `password=${options.password}`,
    `action=${action}`,
    ...(options.powerWait !== undefined ? [`power_wait=${options.powerWait}`] : []),
    ...(options.powerTimeout !== undefined ? [`power_timeout=${options.powerTimeout}`] : []),
  ];
  const exec = await run(agent, [], {
    input: `${lines.join('\n')}\n`,
    timeoutMs: options.timeoutMs ?? 120_000,
    signal: options.signal,
    secrets: [options.password],
    node: target,
    phase: `fence ${action}`,
    reject: false,
    log: options.log,
    // Silence the Python deprecation noise so stderr carries only the agent's own words.
    env: { PYTHONWARNINGS: 'ignore' },
  });
  if (action === 'status') {
    const power = exec.exitCode === 0 ? 'on' : exec.exitCode === 2 ? 'off' : undefined;
    return { action, ok: power !== undefined, power, exec };
  }
  return { action, ok: exec.ok, exec };
}
