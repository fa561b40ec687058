/**
 * Target files (YAML): a running two-node cluster the harness did not build, validated against
 * schemas/target.schema.json. Beyond the schema: the two nodes have different names, every node
 * has an SSH key (its own or the file's default), the replication interface is given where the
 * store is DRBD, and every secret it points at exists and is readable. Each error names the
 * file, the line and the field; nothing is read from a node until the file is valid.
 *
 * Secrets are never inline: a BMC password comes from a file or an environment variable, the
 * test accounts from an accounts file; each value read is registered as a secret at once, so
 * no log or report can show it.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { hasControlCharacter, pathProblem, systemPathProblem, vetInputFile } from '../core/host-files.ts';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { ValidationError, withLines } from '../core/schema.ts';
import { registerSecret } from '../core/secrets.ts';
import { parseYamlInput } from '../core/yaml-input.ts';
import type { NicRole, StorageKind } from './plan.ts';

interface SshSpec {
  address?: string;
  port?: number;
  user?: string;
  key?: string;
  /** Top level only: the known_hosts file that pins the nodes' host keys (default: the target's own, filled on first contact). */
  knownHosts?: string;
}

interface SecretSpec {
  passwordFile?: string;
  passwordEnv?: string;
}

/** A target file as written (after validation). */
export interface TargetFile {
  name: string;
  storage: StorageKind;
  /** The device-mapper device under the store (its name), whose table the disk faults may swap. */
  storeDm?: string;
  virtualIp: string;
  ssh?: SshSpec;
  mail: { domain: string; service?: 'postfix-dovecot' | 'axigen'; accounts: { file: string } };
  nodes: Array<{
    name: string;
    ssh: SshSpec & { address: string };
    nics: Partial<Record<NicRole, string>> & Record<'client' | 'ring0' | 'ring1', string>;
    power: { ipmi?: { address: string; port?: number; username: string; password: SecretSpec }; pdu?: { outlets: Array<{ pdu: string; outlet: number }> } };
  }>;
  pdus?: Record<string, { address: string; port?: number; username: string; password: SecretSpec }>;
  waits?: { clusterReadyS?: number };
}

/** One node of a target, every default applied and every secret read. */
export interface ResolvedNode {
  name: string;
  ssh: { address: string; port: number; user: string; key: string };
  nics: Record<NicRole, string>;
  /** Its BMC, or the PDU outlets feeding it (exactly one). */
  ipmi?: { address: string; port: number; username: string; password: string };
  outlets?: Array<{ pdu: string; outlet: number }>;
}

/** A switched PDU of the target, its passphrase read. */
export interface ResolvedPdu {
  name: string;
  address: string;
  port: number;
  username: string;
  password: string;
}

/** A target file read, checked and resolved: what the existing-cluster target runs on. */
export interface ResolvedTarget {
  file: string;
  /** The file as written, for run.json (it holds no secret: only where the secrets are). */
  spec: TargetFile;
  name: string;
  storage: StorageKind;
  storeDm?: string;
  virtualIp: string;
  mailDomain: string;
  mailService: 'postfix-dovecot' | 'axigen';
  accounts: Record<string, string>;
  nodes: ResolvedNode[];
  pdus: ResolvedPdu[];
  /** The known_hosts file the file names, if any (absolute). */
  knownHosts?: string;
  clusterReadyS: number;
}

/** The default wait for the cluster to be ready (before a run and after a heal), seconds. */
export const DEFAULT_CLUSTER_READY_S = 600;

/** Parses an accounts file: one `user password` per line; `#` comments and blank lines skipped. Pure. */
export function parseAccounts(text: string, source: string): Record<string, string> {
  const accounts: Record<string, string> = {};
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9_.+-]{1,64})\s+(\S.*)$/.exec(line);
    if (!m) problems.push(`line ${i + 1}: expected "user password" (a user name, a space, the password)`);
    else if (accounts[m[1]!] !== undefined) problems.push(`line ${i + 1}: user ${m[1]} is listed twice`);
    else accounts[m[1]!] = m[2]!;
  });
  if (!problems.length && !Object.keys(accounts).length) problems.push('no account in it: the workload needs at least one');
  if (problems.length) throw new ValidationError(source, problems);
  return accounts;
}

/**
 * An address as the network sees it, for comparing two of them: `localhost` is 127.0.0.1, an
 * IPv4 address loses its leading zeros (`127.000.000.002` is 127.0.0.2 to the resolver), a host
 * name its case and trailing dot. Pure.
 */
export function canonicalAddress(address: string): string {
  const name = address.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name === 'localhost.localdomain' || name === 'ip6-localhost') return '127.0.0.1';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return name.split('.').map((o) => String(Number(o))).join('.');
  return name;
}

/** What is wrong with an IPv4 address written with leading zeros (`010.0.0.1`), or undefined: some tools read such octets as octal. */
function leadingZeroProblem(address: string): string | undefined {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address) && address.split('.').some((o) => o.length > 1 && o.startsWith('0'))
    ? 'an IPv4 address with leading zeros (some tools read them as octal): write it without them'
    : undefined;
}

/** The kinds of secret a target file points at, with the rules a value must meet. */
const SECRET_RULES = {
  ipmi: { min: 3, max: 20, what: 'an IPMI 2.0 password (at most 20 bytes)', forbid: undefined },
  // It goes into the net-snmp client's snmp.conf: one token, nothing its parser reads as syntax.
  snmp: { min: 8, max: 64, what: 'an SNMPv3 passphrase (8-64 characters)', forbid: /[\s"'\\#]/ },
} as const;

/** What is wrong with a secret's value, in words that never include it; undefined when usable. Pure. */
export function secretValueProblem(value: string, kind: keyof typeof SECRET_RULES): string | undefined {
  const rule = SECRET_RULES[kind];
  if (hasControlCharacter(value)) return `contains a control character (a newline, NUL, ESC...); it must be ${rule.what}`;
  if (value.trim() === '') return 'is only spaces';
  if (value !== value.trim()) return 'begins or ends with a space (write it without)';
  if (rule.forbid?.test(value)) return `contains a space, a quote, a backslash or #, which the client's config file would read as syntax; it must be ${rule.what}`;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < rule.min || bytes > rule.max) return `is ${bytes} bytes long; it must be ${rule.what}, at least ${rule.min}`;
  return undefined;
}

/** What is wrong with a known_hosts file's text, or undefined. Never quotes it. Pure. */
export function knownHostsProblem(text: string): string | undefined {
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (!/^(@(cert-authority|revoked) )?[^\s]+ (ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+|[a-z0-9-]+-cert-v01@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/.test(line)) {
      return `line ${i + 1} is not a known_hosts entry (host, key type, key)`;
    }
  }
  return undefined;
}

/** What is wrong with an SSH private key file's text, or undefined. Never quotes it. Pure. */
export function privateKeyProblem(text: string): string | undefined {
  if (!text.trim()) return 'it is empty';
  if (!/^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text.trimStart())) return 'it is not a private key in PEM or OpenSSH form (no -----BEGIN ... PRIVATE KEY----- line)';
  return undefined;
}

/** Reads and checks a target file; secrets are read from where it says. Errors name the file, line and field. */
export function loadTargetFile(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedTarget {
  const { value: spec, lineOf } = parseYamlInput<TargetFile>(readInputFile(file, { maxBytes: INPUT_LIMITS.targetFile, what: 'target file' }), file, 'target');
  const fail = (pointer: string, problem: string) => withLines(new ValidationError(file, [`${pointer}: ${problem}`], [pointer]), lineOf);
  /** A path of the file made absolute (relative to the file), checked again as it will be written into ssh_config. */
  const here = (path: string, pointer: string) => {
    const absolute = isAbsolute(path) ? path : resolve(dirname(resolve(file)), path);
    const problem = pathProblem(absolute);
    if (problem) throw fail(pointer, `the path it makes (relative to the target file's directory) ${problem}`);
    // A system path is refused whether or not it exists here (a known_hosts that does not exist yet is otherwise allowed).
    const system = systemPathProblem(absolute);
    if (system) throw fail(pointer, system);
    return absolute;
  };
  /** A file the target file points at, vetted before it is read or handed on (no link, no system file, a credential the user's own). */
  const vetted = (path: string, pointer: string, kind: 'credential' | 'key' | 'input', what: string) => {
    try {
      vetInputFile(path, kind, what, pointer);
    } catch (error) {
      if (error instanceof ValidationError) throw fail(pointer, error.problems[0]!.replace(`${pointer}: `, ''));
      throw error;
    }
    return path;
  };
  const [a, b] = spec.nodes as [TargetFile['nodes'][0], TargetFile['nodes'][0]];
  if (a.name === b.name) throw fail('/nodes/1/name', `both nodes are named "${a.name}": each needs its own name, as Pacemaker knows it`);
  for (const [pointer, address] of [
    ['/nodes/0/ssh/address', a.ssh.address],
    ['/nodes/1/ssh/address', b.ssh.address],
    ['/virtualIp', spec.virtualIp],
    ['/nodes/0/power/ipmi/address', a.power.ipmi?.address],
    ['/nodes/1/power/ipmi/address', b.power.ipmi?.address],
    ...Object.entries(spec.pdus ?? {}).map(([name, p]) => [`/pdus/${name}/address`, p.address]),
  ] as const) {
    const problem = address === undefined ? undefined : leadingZeroProblem(address);
    if (problem) throw fail(pointer, problem);
  }
  const sshPort = (n: typeof a) => n.ssh.port ?? spec.ssh?.port ?? 22;
  if (canonicalAddress(a.ssh.address) === canonicalAddress(b.ssh.address) && sshPort(a) === sshPort(b)) throw fail('/nodes/1/ssh/address', `both nodes are reached at the same address (${canonicalAddress(a.ssh.address)}, port ${sshPort(a)}): each node needs its own`);
  if (a.power.ipmi && b.power.ipmi && canonicalAddress(a.power.ipmi.address) === canonicalAddress(b.power.ipmi.address) && (a.power.ipmi.port ?? 623) === (b.power.ipmi.port ?? 623)) {
    throw fail('/nodes/1/power/ipmi/address', 'both nodes name the same BMC (address and port): each node is fenced by its own BMC, or one BMC would power off both');
  }
  const pduEndpoints = new Map<string, string>();
  for (const [name, p] of Object.entries(spec.pdus ?? {})) {
    const endpoint = `${canonicalAddress(p.address)}:${p.port ?? 161}`;
    if (pduEndpoints.has(endpoint)) throw fail(`/pdus/${name}/address`, `PDU ${name} is the same device (address and port) as PDU ${pduEndpoints.get(endpoint)}`);
    pduEndpoints.set(endpoint, name);
  }
  const secret = (pointer: string, s: SecretSpec, what: string, kind: keyof typeof SECRET_RULES): string => {
    if ((s.passwordFile === undefined) === (s.passwordEnv === undefined)) throw fail(pointer, `give exactly one of passwordFile or passwordEnv for ${what} (never the password itself)`);
    const check = (field: string, value: string) => {
      const problem = secretValueProblem(value, kind);
      if (problem) throw fail(field, `${what}: ${problem}`);
      return registerSecret(value);
    };
    if (s.passwordEnv !== undefined) {
      const value = env[s.passwordEnv];
      if (!value) throw fail(`${pointer}/passwordEnv`, `the environment variable ${s.passwordEnv} is not set (it holds ${what})`);
      return check(`${pointer}/passwordEnv`, value);
    }
    const path = vetted(here(s.passwordFile!, `${pointer}/passwordFile`), `${pointer}/passwordFile`, 'credential', `password file of ${what}`);
    const value = readInputFile(path, { maxBytes: INPUT_LIMITS.password, what: `password file of ${what}`, kind: 'credential' }).split('\n')[0]!.trim();
    if (!value) throw fail(`${pointer}/passwordFile`, `${path} is empty (its first line is ${what})`);
    return check(`${pointer}/passwordFile`, value);
  };
  const nodes = spec.nodes.map((n, i): ResolvedNode => {
    const key = n.ssh.key ?? spec.ssh?.key;
    if (!key) throw fail(`/nodes/${i}/ssh/key`, 'no SSH key: give one here or in the top-level ssh.key');
    const keyPointer = n.ssh.key ? `/nodes/${i}/ssh/key` : '/ssh/key';
    const keyFile = vetted(here(key, keyPointer), keyPointer, 'key', 'SSH key');
    const keyProblem = privateKeyProblem(readInputFile(keyFile, { maxBytes: INPUT_LIMITS.sshKey, what: 'SSH key', kind: 'key' }));
    if (keyProblem) throw fail(keyPointer, `cannot use this SSH key: ${keyProblem}`);
    if (spec.storage === 'drbd' && !n.nics.replication) throw fail(`/nodes/${i}/nics/replication`, 'a DRBD store needs the interface of its replication link');
    const nics = { ...n.nics, replication: n.nics.replication ?? '' } as Record<NicRole, string>;
    const used = Object.entries(nics).filter(([, nic]) => nic);
    const clash = used.find(([role, nic]) => used.some(([r, x]) => r !== role && x === nic && (role === 'ring0' || role === 'ring1') && (r === 'ring0' || r === 'ring1')));
    if (clash) throw fail(`/nodes/${i}/nics`, `ring0 and ring1 are both ${clash[1]}: two heartbeat rings need two interfaces`);
    const { ipmi, pdu } = n.power;
    if (!ipmi && !pdu) throw fail(`/nodes/${i}/power`, 'give its power device: ipmi (the node\'s BMC), pdu (the outlets feeding it), or both (two fencing levels: the BMC first, then the outlets)');
    for (const [j, o] of (pdu?.outlets ?? []).entries()) {
      if (!spec.pdus || !Object.hasOwn(spec.pdus, o.pdu)) throw fail(`/nodes/${i}/power/pdu/outlets/${j}/pdu`, `no PDU named "${o.pdu}" in the top-level pdus (${Object.keys(spec.pdus ?? {}).join(', ') || 'none'})`);
    }
    return {
      name: n.name,
      ssh: { address: n.ssh.address, port: sshPort(n), user: n.ssh.user ?? spec.ssh?.user ?? 'root', key: keyFile },
      nics,
      ...(ipmi ? { ipmi: { address: ipmi.address, port: ipmi.port ?? 623, username: ipmi.username, password: secret(`/nodes/${i}/power/ipmi/password`, ipmi.password, `the BMC password of ${n.name}`, 'ipmi') } } : {}),
      ...(pdu ? { outlets: pdu.outlets } : {}),
    };
  });
  const used = new Set(nodes.flatMap((n) => n.outlets ?? []).map((o) => `${o.pdu}:${o.outlet}`));
  if (used.size !== nodes.flatMap((n) => n.outlets ?? []).length) throw fail('/nodes', 'one PDU outlet is given twice: each outlet feeds one power supply');
  const pdus = Object.entries(spec.pdus ?? {}).map(([name, p]): ResolvedPdu => {
    return { name, address: p.address, port: p.port ?? 161, username: p.username, password: secret(`/pdus/${name}/password`, p.password, `the SNMPv3 passphrase of PDU ${name}`, 'snmp') };
  });
  const accountsFile = vetted(here(spec.mail.accounts.file, '/mail/accounts/file'), '/mail/accounts/file', 'credential', 'accounts file');
  const accounts = parseAccounts(readInputFile(accountsFile, { maxBytes: INPUT_LIMITS.accounts, what: 'accounts file', kind: 'credential' }), accountsFile);
  for (const [user, password] of Object.entries(accounts)) {
    const problem = hasControlCharacter(password) ? 'contains a control character' : password.length < 3 ? 'is shorter than 3 characters' : undefined;
    if (problem) throw new ValidationError(accountsFile, [`user ${user}: the password ${problem}`]);
    registerSecret(password);
  }
  let knownHosts: string | undefined;
  // A known_hosts file that does not exist yet seeds nothing: the first contact fills the harness's own copy.
  if (spec.ssh?.knownHosts && existsSync(here(spec.ssh.knownHosts, '/ssh/knownHosts'))) {
    knownHosts = vetted(here(spec.ssh.knownHosts, '/ssh/knownHosts'), '/ssh/knownHosts', 'input', 'known_hosts file');
    const problem = knownHostsProblem(readInputFile(knownHosts, { maxBytes: INPUT_LIMITS.knownHosts, what: 'known_hosts file' }));
    if (problem) throw fail('/ssh/knownHosts', `cannot use this known_hosts file: ${problem}`);
  }
  return {
    file,
    spec,
    name: spec.name,
    storage: spec.storage,
    ...(spec.storeDm ? { storeDm: spec.storeDm } : {}),
    virtualIp: spec.virtualIp,
    mailDomain: spec.mail.domain,
    mailService: spec.mail.service ?? 'postfix-dovecot',
    accounts,
    nodes,
    pdus,
    ...(knownHosts ? { knownHosts } : {}),
    clusterReadyS: spec.waits?.clusterReadyS ?? DEFAULT_CLUSTER_READY_S,
  };
}
