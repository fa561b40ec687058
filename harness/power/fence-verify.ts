/**
 * Fencing verified before any fault, from the cluster itself (issue 19). "Ready" means each node
 * can be fenced by its own device, not that the stonith resources say Started:
 *
 * 1. the CIB's stonith devices are read (`cibadmin -Q -o resources`); heuristic devices
 *    (`fence_heuristics_*`) fence nobody and do not count; every node needs a started power device
 *    that names it (pcmk_host_list);
 * 2. in the lab, each device's parameters must be the plan's: a drift is named (device,
 *    parameter, expected, actual);
 * 3. each power device's own agent runs its `monitor` action with the device's parameters, as the
 *    fencer would (key=value on stdin), on the node that would fence: a device that cannot log in
 *    (wrong password, user or cipher) is named with the agent's own error text;
 * 4. an IPMI device's BMC is asked its system GUID (`ipmitool mc guid`, the device's address,
 *    port, user and password) and it must be the identity of the node it fences (SMBIOS
 *    product_uuid, or a container's ID): a device aimed at the peer's BMC is named as such. A PDU
 *    outlet has no identity to read; that is said, and `--verify-fencing` fences each node once.
 *
 * Nothing here powers anything off. The parsers and judgements are pure and tested on literal
 * evidence; the runner is the one place that touches the nodes.
 */
import { XMLParser } from 'fast-xml-parser';
import type { Logger } from '../core/log.ts';
import { guidReadings, identityAsUuid, NODE_IDENTITY_SCRIPT, normalizeIdentity, parseSystemGuid } from '../bmc/machine-identity.ts';
import { shellQuote } from '../bmc/sim-files.ts';
import { registerSecret } from '../core/secrets.ts';
import type { NodeShell } from '../cluster/ssh.ts';
import type { FenceDeviceSpec } from './fence-resources.ts';

/** A stonith resource as the CIB holds it. */
export interface StonithDevice {
  id: string;
  /** The agent, e.g. `fence_ipmilan` (the `type` of a `class="stonith"` primitive). */
  agent: string;
  params: Record<string, string>;
}

/** Agents that decide whether to fence but power nothing off. */
export function isHeuristic(agent: string): boolean {
  return /^fence_heuristics_/.test(agent);
}

/** Agents that speak IPMI to a BMC: their BMC can be asked its system GUID. */
export function speaksIpmi(device: StonithDevice): boolean {
  return /^fence_(ipmilan|ipmilanplus|idrac|ilo[0-9]?|ilo[0-9]?_ssh|imm|ipmitool)$/.test(device.agent) && device.params.ip !== undefined;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['primitive', 'nvpair', 'group', 'clone', 'instance_attributes'].includes(name) });
type XmlNode = Record<string, unknown>;
const arr = (v: unknown): XmlNode[] => (Array.isArray(v) ? (v as XmlNode[]) : v ? [v as XmlNode] : []);

/** The stonith devices in `cibadmin -Q -o resources` output (top level or inside groups and clones). Pure. */
export function parseStonithDevices(text: string): StonithDevice[] {
  const doc = xml.parse(text) as XmlNode;
  const root = (doc.resources ?? (doc.cib as XmlNode | undefined)?.configuration) as XmlNode | undefined;
  if (!root) throw new Error('not a CIB resources section (no <resources>)');
  const primitives = (node: XmlNode): XmlNode[] => [...arr(node.primitive), ...[...arr(node.group), ...arr(node.clone)].flatMap(primitives)];
  return primitives(root)
    .filter((p) => p.class === 'stonith')
    .map((p) => ({
      id: String(p.id),
      agent: String(p.type),
      params: Object.fromEntries(arr(p.instance_attributes).flatMap((ia) => arr(ia.nvpair).map((nv) => [String(nv.name), String(nv.value ?? '')]))),
    }));
}

/** The nodes a device fences (pcmk_host_list, or the keys of pcmk_host_map). Pure. */
export function targetsOf(device: StonithDevice): string[] {
  const list = device.params.pcmk_host_list ?? '';
  const map = (device.params.pcmk_host_map ?? '').split(/[;\s,]+/).map((e) => e.split(':')[0]!);
  return [...new Set([...list.split(/[\s,;]+/), ...map].filter(Boolean))];
}

/** A device parameter that is not what the plan says. */
export interface Drift {
  device: string;
  parameter: string;
  expected: string;
  /** `(missing)` when the device or the parameter is gone. */
  actual: string;
}

/** Where the CIB's devices differ from the plan's: each planned device must be there with each planned parameter. Pure. */
export function deviceDrift(expected: readonly FenceDeviceSpec[], actual: readonly StonithDevice[]): Drift[] {
  const drift: Drift[] = [];
  for (const spec of expected) {
    const found = actual.find((d) => d.id === spec.id);
    if (!found) {
      drift.push({ device: spec.id, parameter: '(the device)', expected: `stonith:${spec.agent}`, actual: '(missing)' });
      continue;
    }
    if (found.agent !== spec.agent) drift.push({ device: spec.id, parameter: 'agent', expected: spec.agent, actual: found.agent });
    for (const [name, value] of Object.entries(spec.params)) {
      const is = found.params[name];
      if (is !== value) drift.push({ device: spec.id, parameter: name, expected: value, actual: is ?? '(missing)' });
    }
  }
  return drift;
}

/** A drift in words. Parameters that hold a credential (a password) are never shown, only that they differ. */
export function describeDrift(d: Drift): string {
  const secret = /passw/i.test(d.parameter) && !/_script$/.test(d.parameter);
  return secret ? `${d.device}: ${d.parameter} differs from the plan's` : `${d.device}: ${d.parameter} expected ${d.expected}, actual ${d.actual}`;
}

/** One device's checks, as recorded in a lab's readiness and a run's manifest. */
export interface DeviceCheck {
  device: string;
  agent: string;
  /** The node it fences. */
  node: string;
  /** Where its agent ran (the node that would fence). */
  from: string;
  /** `ok`, or the agent's own error text. */
  login: string;
  /** `matches <node>`, `reaches <other node>`, `unknown: ...`, or `not readable (PDU outlet)`. */
  identity: string;
}

/** The devices whose identity could not be asked (PDU outlets): only fencing each node once proves which machine they power. */
export function devicesWithoutIdentity(verification: Pick<FencingVerification, 'devices'> | undefined): DeviceCheck[] {
  return (verification?.devices ?? []).filter((d) => d.identity === NOT_READABLE);
}

const NOT_READABLE = 'not readable (a PDU outlet has no identity to ask)';

/** What {@link verifyFencing} found. */
export interface FencingVerification {
  ok: boolean;
  /** What makes fencing unverified, each naming the device and the cause. */
  problems: string[];
  /** What could not be checked, in words (a PDU outlet's identity). */
  notes: string[];
  devices: DeviceCheck[];
}

/** The last meaningful lines of an agent's output (its own error text), without timestamps, one line. Pure. */
export function agentErrorText(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.replace(/^\d{4}-\d\d-\d\d[ T][\d:,.]+\s*/, '').trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /error|fail|unable|refused|timed out|denied/i.test(l));
  return (errors.length ? errors : lines).slice(-2).join(' / ').slice(0, 300) || 'no output';
}

/** The identities of the nodes, and what the raw GUID bytes one device answers (`mc guid dump`) say, in any of the encodings BMCs use. Pure. */
export function judgeIdentity(device: string, node: string, rawGuid: string | undefined, identities: Record<string, string | undefined>): { identity: string; problem?: string } {
  const mine = identities[node];
  if (!rawGuid) return { identity: 'unknown: the BMC answered no system GUID' };
  if (!mine) return { identity: `unknown: ${node}'s own identity could not be read` };
  const readings = guidReadings(rawGuid);
  if (readings.includes(mine)) return { identity: `matches ${node}` };
  const other = Object.entries(identities).find(([n, id]) => n !== node && id !== undefined && readings.includes(id))?.[0];
  // Shown as the reading that is the other node's identity, or in SMBIOS order (as `ipmitool mc guid` prints it most often).
  const guid = other ? identities[other]! : readings[0]!;
  const id = identityAsUuid;
  if (other) return { identity: `reaches ${other}`, problem: `${device} is meant to fence ${node} but its BMC is ${other}'s (BMC system GUID ${id(guid)} is ${other}'s machine identity; ${node}'s is ${id(mine)}): fencing ${node} would power off ${other}` };
  return { identity: `reaches an unknown machine (GUID ${id(guid)})`, problem: `${device} is meant to fence ${node} but its BMC answers for another machine (system GUID ${id(guid)}; ${node}'s machine identity is ${id(mine)})` };
}

/** The script that runs a fence agent's monitor with `params` on stdin, as the fencer does. */
function monitorScript(device: StonithDevice): string {
  const lines = ['action=monitor', ...Object.entries(device.params).filter(([k]) => !k.startsWith('pcmk_')).map(([k, v]) => `${k}=${v}`)];
  return `printf '%s\\n' ${lines.map(shellQuote).join(' ')} | timeout 60 ${shellQuote(device.agent)} 2>&1; echo "@@rc $?"`;
}

/** The script that asks an IPMI device's BMC its system GUID with the device's own parameters. */
export function guidScript(device: StonithDevice): string {
  const p = device.params;
  const password = p.password_script ? `"$(bash -c ${shellQuote(p.password_script)} 2>/dev/null)"` : shellQuote(p.password ?? p.passwd ?? '');
  const cipher = p.cipher ? ` -C ${shellQuote(p.cipher)}` : '';
  const port = p.ipport ? ` -p ${shellQuote(p.ipport)}` : '';
  const user = p.username ?? p.login ?? '';
  return `IPMI_PASSWORD=${password} timeout 30 ipmitool -I lanplus${cipher} -H ${shellQuote(p.ip!)}${port} -U ${shellQuote(user)} -E -N 2 -R 2 mc guid dump 2>&1; echo "@@rc $?"`;
}

/** A value that could end a key=value line on an agent's stdin: refused, never run. */
function unsafeParam(device: StonithDevice): string | undefined {
  return Object.entries(device.params).find(([k, v]) => /[\n\r\0]/.test(k + v))?.[0];
}

export interface VerifyOptions {
  shell: NodeShell;
  nodes: string[];
  /** The resource ids Pacemaker reports started (active, not failed). */
  started: ReadonlySet<string>;
  /** The plan's devices (the lab): parameters are compared. Absent on a cluster the harness did not build. */
  expected?: readonly FenceDeviceSpec[];
  /** Only these devices (a wedge's): the login check alone. */
  only?: readonly string[];
  log: Logger;
  signal?: AbortSignal;
}

/** Reads the CIB's stonith devices from the first node that answers. */
export async function readStonithDevices(shell: NodeShell, nodes: string[], log: Logger, signal?: AbortSignal): Promise<StonithDevice[]> {
  const errors: string[] = [];
  for (const node of nodes) {
    const r = await shell.root(node, 'cibadmin -Q -o resources', { timeoutMs: 60_000, signal, reject: false, log, phase: 'fencing check' });
    if (r.ok) return parseStonithDevices(r.stdout);
    errors.push(`${node}: ${r.reason}`);
  }
  throw new Error(`cannot read the CIB's stonith devices (${errors.join('; ')})`);
}

type NodeRunner = (node: string, script: string) => Promise<{ ok: boolean; stdout: string; reason: string }>;

/** One power device's login (its agent's monitor) and, for IPMI, its BMC's identity. */
async function checkDevice(device: StonithDevice, nodes: string[], identities: Record<string, string | undefined>, run: NodeRunner, loginOnly: boolean): Promise<{ check: DeviceCheck; problems: string[]; notes: string[] }> {
  const node = targetsOf(device)[0] ?? '(none)';
  const from = nodes.find((n) => n !== node) ?? nodes[0]!;
  const check: DeviceCheck = { device: device.id, agent: device.agent, node, from, login: 'not checked', identity: 'not checked' };
  if (!/^fence_[a-z0-9_]+$/.test(device.agent)) return { check, problems: [`${device.id}: its agent is not a fence agent name; not run`], notes: [] };
  const unsafe = unsafeParam(device);
  if (unsafe) return { check, problems: [`${device.id}: its parameter ${unsafe} holds a line break; not run`], notes: [] };
  // A password the CIB holds in the clear travels in the scripts below: masked in every log from now on.
  for (const secret of [device.params.password, device.params.passwd]) if (secret && secret.length >= 3 && /[\p{L}\p{N}]/u.test(secret)) registerSecret(secret);
  const monitor = await run(from, monitorScript(device));
  const rc = Number(/@@rc (\d+)/.exec(monitor.stdout)?.[1] ?? NaN);
  if (!monitor.ok || rc !== 0) {
    check.login = agentErrorText(monitor.stdout.replace(/@@rc \d+\s*$/, '') || monitor.reason);
    return { check, problems: [`${device.id} (${device.agent}, fences ${node}) cannot reach or log in to its device from ${from}: ${check.login}`], notes: [] };
  }
  check.login = 'ok';
  if (loginOnly) return { check, problems: [], notes: [] };
  if (!speaksIpmi(device)) {
    check.identity = NOT_READABLE;
    return { check, problems: [], notes: [`${device.id}: a PDU outlet cannot tell which machine it feeds; only fencing ${node} once proves it (--verify-fencing)`] };
  }
  const guid = await run(from, guidScript(device));
  const judged = judgeIdentity(device.id, node, parseSystemGuid(guid.stdout), identities);
  check.identity = judged.identity;
  if (judged.problem) return { check, problems: [judged.problem], notes: [] };
  return { check, problems: [], notes: judged.identity.startsWith('matches') ? [] : [`${device.id}: identity ${judged.identity}`] };
}

/** Runs checks 1-4 above; never powers anything off. */
export async function verifyFencing(options: VerifyOptions): Promise<FencingVerification> {
  const { shell, nodes, started, log, signal } = options;
  const run = (node: string, script: string) => shell.root(node, script, { timeoutMs: 120_000, signal, reject: false, log, phase: 'fencing check' });
  const all = await readStonithDevices(shell, nodes, log, signal);
  const power = all.filter((d) => !isHeuristic(d.agent) && (!options.only || options.only.includes(d.id)));
  const problems: string[] = [];
  const notes: string[] = [];
  if (!options.only) {
    for (const node of nodes) {
      const mine = power.filter((d) => targetsOf(d).includes(node));
      if (!mine.length) problems.push(`no power fence device fences ${node} (heuristic devices power nothing off): it cannot be fenced`);
      else if (!mine.some((d) => started.has(d.id))) problems.push(`no power fence device of ${node} is started (${mine.map((d) => d.id).join(', ')}): it cannot be fenced`);
    }
    if (options.expected) problems.push(...deviceDrift(options.expected, all).map((d) => `fence device drifted from the plan: ${describeDrift(d)}`));
  }
  const identities: Record<string, string | undefined> = {};
  const needIdentity = power.some(speaksIpmi);
  if (needIdentity) {
    await Promise.all(
      nodes.map(async (node) => {
        const r = await run(node, NODE_IDENTITY_SCRIPT);
        identities[node] = r.ok ? normalizeIdentity(/^identity (\S+)/m.exec(r.stdout)?.[1]) : undefined;
      }),
    );
  }
  // Each device is checked from the node that would fence with it: the two run at once.
  const checked = await Promise.all(power.map((device) => checkDevice(device, nodes, identities, run, Boolean(options.only))));
  for (const c of checked) {
    problems.push(...c.problems);
    notes.push(...c.notes);
  }
  const devices = checked.map((c) => c.check);
  return { ok: problems.length === 0, problems, notes, devices };
}
