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
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { ValidationError, withLines } from '../core/schema.ts';
import { registerSecret } from '../core/secrets.ts';
import { parseYamlInput } from '../core/yaml-input.ts';
import type { NicRole, StorageKind } from './target.ts';

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

/** Reads and checks a target file; secrets are read from where it says. Errors name the file, line and field. */
export function loadTargetFile(file: string, env: NodeJS.ProcessEnv = process.env): ResolvedTarget {
  const { value: spec, lineOf } = parseYamlInput<TargetFile>(readInputFile(file, { maxBytes: INPUT_LIMITS.targetFile, what: 'target file' }), file, 'target');
  const fail = (pointer: string, problem: string) => withLines(new ValidationError(file, [`${pointer}: ${problem}`], [pointer]), lineOf);
  const here = (path: string) => (isAbsolute(path) ? path : resolve(dirname(file), path));
  const [a, b] = spec.nodes as [TargetFile['nodes'][0], TargetFile['nodes'][0]];
  if (a.name === b.name) throw fail('/nodes/1/name', `both nodes are named "${a.name}": each needs its own name, as Pacemaker knows it`);
  if (a.ssh.address === b.ssh.address && (a.ssh.port ?? spec.ssh?.port ?? 22) === (b.ssh.port ?? spec.ssh?.port ?? 22)) throw fail('/nodes/1/ssh/address', `both nodes are reached at ${a.ssh.address}: each node needs its own address`);
  const secret = (pointer: string, s: SecretSpec, what: string): string => {
    if ((s.passwordFile === undefined) === (s.passwordEnv === undefined)) throw fail(pointer, `give exactly one of passwordFile or passwordEnv for ${what} (never the password itself)`);
    if (s.passwordEnv !== undefined) {
      const value = env[s.passwordEnv];
      if (!value) throw fail(`${pointer}/passwordEnv`, `the environment variable ${s.passwordEnv} is not set (it holds ${what})`);
      return registerSecret(value);
    }
    const path = here(s.passwordFile!);
    if (!existsSync(path)) throw fail(`${pointer}/passwordFile`, `${path} does not exist (it holds ${what})`);
    const value = readInputFile(path, { maxBytes: INPUT_LIMITS.password, what: `password file of ${what}` }).split('\n')[0]!.trim();
    if (!value) throw fail(`${pointer}/passwordFile`, `${path} is empty (its first line is ${what})`);
    return registerSecret(value);
  };
  const nodes = spec.nodes.map((n, i): ResolvedNode => {
    const key = n.ssh.key ?? spec.ssh?.key;
    if (!key) throw fail(`/nodes/${i}/ssh/key`, 'no SSH key: give one here or in the top-level ssh.key');
    if (!existsSync(here(key))) throw fail(`/nodes/${i}/ssh/key`, `${here(key)} does not exist`);
    if (spec.storage === 'drbd' && !n.nics.replication) throw fail(`/nodes/${i}/nics/replication`, 'a DRBD store needs the interface of its replication link');
    const nics = { ...n.nics, replication: n.nics.replication ?? '' } as Record<NicRole, string>;
    const used = Object.entries(nics).filter(([, nic]) => nic);
    const clash = used.find(([role, nic]) => used.some(([r, x]) => r !== role && x === nic && (role === 'ring0' || role === 'ring1') && (r === 'ring0' || r === 'ring1')));
    if (clash) throw fail(`/nodes/${i}/nics`, `ring0 and ring1 are both ${clash[1]}: two heartbeat rings need two interfaces`);
    const { ipmi, pdu } = n.power;
    if (Boolean(ipmi) === Boolean(pdu)) throw fail(`/nodes/${i}/power`, 'give exactly one power device: ipmi (the node\'s BMC) or pdu (the outlets feeding it)');
    for (const [j, o] of (pdu?.outlets ?? []).entries()) {
      if (!spec.pdus?.[o.pdu]) throw fail(`/nodes/${i}/power/pdu/outlets/${j}/pdu`, `no PDU named "${o.pdu}" in the top-level pdus (${Object.keys(spec.pdus ?? {}).join(', ') || 'none'})`);
    }
    return {
      name: n.name,
      ssh: { address: n.ssh.address, port: n.ssh.port ?? spec.ssh?.port ?? 22, user: n.ssh.user ?? spec.ssh?.user ?? 'root', key: here(key) },
      nics,
      ...(ipmi ? { ipmi: { address: ipmi.address, port: ipmi.port ?? 623, username: ipmi.username, password: secret(`/nodes/${i}/power/ipmi/password`, ipmi.password, `the BMC password of ${n.name}`) } } : {}),
      ...(pdu ? { outlets: pdu.outlets } : {}),
    };
  });
  const used = new Set(nodes.flatMap((n) => n.outlets ?? []).map((o) => `${o.pdu}:${o.outlet}`));
  if (used.size !== nodes.flatMap((n) => n.outlets ?? []).length) throw fail('/nodes', 'one PDU outlet is given twice: each outlet feeds one power supply');
  const pdus = Object.entries(spec.pdus ?? {}).map(([name, p]): ResolvedPdu => {
    return { name, address: p.address, port: p.port ?? 161, username: p.username, password: secret(`/pdus/${name}/password`, p.password, `the SNMPv3 passphrase of PDU ${name}`) };
  });
  const accountsFile = here(spec.mail.accounts.file);
  if (!existsSync(accountsFile)) throw fail('/mail/accounts/file', `${accountsFile} does not exist`);
  const accounts = parseAccounts(readInputFile(accountsFile, { maxBytes: INPUT_LIMITS.accounts, what: 'accounts file' }), accountsFile);
  Object.values(accounts).forEach(registerSecret);
  return {
    file,
    spec,
    name: spec.name,
    storage: spec.storage,
    virtualIp: spec.virtualIp,
    mailDomain: spec.mail.domain,
    mailService: spec.mail.service ?? 'postfix-dovecot',
    accounts,
    nodes,
    pdus,
    ...(spec.ssh?.knownHosts ? { knownHosts: here(spec.ssh.knownHosts) } : {}),
    clusterReadyS: spec.waits?.clusterReadyS ?? DEFAULT_CLUSTER_READY_S,
  };
}
