/**
 * The lab config (vagrant/lab.json by default, or a file given with --config), validated against
 * schemas/lab.schema.json, and the plan derived from it: every address, MAC, libvirt name and BMC
 * port, computed in one place from the one range the lab owns.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { INPUT_LIMITS } from '../core/input-file.ts';
import { readJsonFile } from '../core/json-file.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { validate, ValidationError, withLines } from '../core/schema.ts';

export interface LabConfig {
  name: string;
  network: {
    prefix: string;
    subnets: Record<NetworkRole, number>;
    virtualIpHost: number;
  };
  nodes: { cpus: number; memoryMiB: number; storageGiB: number };
  storage: 'drbd';
  fencing: { agent: 'fence_ipmilan'; bmcUsername: string; bmcPortBase: number; delayNode1: string; pingHeuristic?: boolean };
  cluster: {
    startOnBoot: boolean;
    corosyncTokenMs: number;
    stonithTimeout: string;
    loadThreshold: string;
    /** Pacemaker operation timeouts ("Ns"); the ones marked optional default to {@link DEFAULT_OPERATIONS}. */
    operationTimeouts: Record<RequiredTimeout, string> & Partial<Record<OptionalTimeout, string>>;
    /** Monitor intervals ("Ns"), chosen for an emulated host; default {@link DEFAULT_OPERATIONS}. */
    monitorIntervals?: Partial<Record<MonitorInterval, string>>;
  };
  mail: { domain: string; accounts: number; package: string | null };
  waits: { bootS: number; clusterReadyS: number };
}

type RequiredTimeout = 'drbdStart' | 'drbdPromote' | 'drbdDemote' | 'drbdMonitor' | 'filesystem' | 'ip' | 'mailStart' | 'mailMonitor' | 'mailStop' | 'stonithMonitor';
type OptionalTimeout = 'stonithStart' | 'stonithStop' | 'ping';
type MonitorInterval = 'drbdPromoted' | 'drbdUnpromoted' | 'filesystem' | 'ip' | 'clientPing' | 'smtp' | 'imap' | 'stonith';

/**
 * What a lab config may leave out (configs recorded before these keys existed): the values of
 * vagrant/lab.json, where each is explained. Every operation in the CIB gets an explicit timeout.
 */
export const DEFAULT_OPERATIONS: { timeouts: Record<OptionalTimeout, string>; intervals: Record<MonitorInterval, string> } = {
  timeouts: { stonithStart: '90s', stonithStop: '60s', ping: '60s' },
  intervals: { drbdPromoted: '59s', drbdUnpromoted: '61s', filesystem: '60s', ip: '60s', clientPing: '10s', smtp: '30s', imap: '15s', stonith: '300s' },
};

/** A config's operation timeouts and monitor intervals, with the defaults filled in. Pure. */
export function operationsOf(config: LabConfig): { timeouts: Record<RequiredTimeout | OptionalTimeout, string>; intervals: Record<MonitorInterval, string> } {
  return {
    timeouts: { ...DEFAULT_OPERATIONS.timeouts, ...config.cluster.operationTimeouts },
    intervals: { ...DEFAULT_OPERATIONS.intervals, ...config.cluster.monitorIntervals },
  };
}

/** The lab's networks. `management` carries SSH and the BMCs; the others are the cluster's. */
export type NetworkRole = 'management' | 'client' | 'ring0' | 'ring1' | 'replication';
/** The guest NICs in PCI order: eth0 is management (DHCP), then these, statically addressed. */
export const NIC_ORDER: NetworkRole[] = ['management', 'client', 'ring0', 'ring1', 'replication'];

export interface NetworkPlan {
  role: NetworkRole;
  libvirtName: string;
  cidr: string;
  /** The host's address on this network's bridge (.1). */
  hostIp: string;
}

export interface NodePlan {
  name: string;
  index: number;
  domain: string;
  /** Static addresses on every network but management. */
  ip: Record<Exclude<NetworkRole, 'management'>, string>;
  mac: Record<NetworkRole, string>;
  /** Guest interface name per role (net.ifnames=0: eth0..eth4). */
  nic: Record<NetworkRole, string>;
  bmcPort: number;
}

export interface LabPlan {
  config: LabConfig;
  /** Prefix of every libvirt object the lab makes. */
  prefix: string;
  networks: NetworkPlan[];
  nodes: NodePlan[];
  virtualIp: string;
  /** Where the BMCs listen: the host side of the management network, which no node fault cuts. */
  bmcAddress: string;
}

export const DEFAULT_LAB_CONFIG = join(REPO_ROOT, 'vagrant/lab.json');

/**
 * Reads and validates a lab config file (a regular file of at most 256 KiB, strict JSON: a
 * duplicate key is an error); errors name the file, the line and the field.
 */
export function loadLabConfig(file = DEFAULT_LAB_CONFIG): LabConfig {
  const parsed = readJsonFile(file, { maxBytes: INPUT_LIMITS.labConfig, what: 'lab config' });
  return parseLabConfig(parsed.value, file, parsed.lineOf);
}

/**
 * Validates a lab config value (from a file, or recorded in a run's run.json); `source` names it
 * in errors, `lineOf` (from the file's parse) puts the line before each field, and `base` is
 * where the config sits in its file (`/lab` in run.json).
 */
export function parseLabConfig(input: unknown, source: string, lineOf: (pointer: string) => number | undefined = () => undefined, base = ''): LabConfig {
  const file = source;
  const fail = (pointer: string, problem: string) => withLines(new ValidationError(file, [`${base}${pointer}: ${problem}`], [`${base}${pointer}`]), lineOf);
  let config: LabConfig;
  try {
    config = validate<LabConfig>('lab', input, file, base);
  } catch (error) {
    throw error instanceof ValidationError ? withLines(error, lineOf) : error;
  }
  const subnets = Object.values(config.network.subnets);
  if (new Set(subnets).size !== subnets.length) {
    throw fail('/network/subnets', 'every network needs its own subnet number');
  }
  if (config.mail.package !== null) {
    throw fail('/mail/package', 'installing Axigen from a package is not supported yet; use null for the open stand-in (Postfix + Dovecot)');
  }
  return config;
}

function mac(labName: string, subnet: number, node: number): string {
  const h = createHash('sha256').update(labName).digest();
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:${hex(h[0]!)}:${hex(subnet)}:${hex(node)}`;
}

/** Derives every name and address from the config. Pure. */
export function planLab(config: LabConfig): LabPlan {
  const prefix = `hachaos-${config.name}-`;
  const { prefix: net, subnets } = config.network;
  const networks = NIC_ORDER.map((role) => ({
    role,
    libvirtName: `${prefix}${role}`,
    cidr: `${net}.${subnets[role]}.0/24`,
    hostIp: `${net}.${subnets[role]}.1`,
  }));
  const nodes = [1, 2].map((index) => {
    const name = `node${index}`;
    const addr = (role: NetworkRole) => `${net}.${subnets[role]}.${10 + index}`;
    return {
      name,
      index,
      domain: `${prefix}${name}`,
      ip: { client: addr('client'), ring0: addr('ring0'), ring1: addr('ring1'), replication: addr('replication') },
      mac: Object.fromEntries(NIC_ORDER.map((role) => [role, mac(config.name, subnets[role], index)])) as Record<NetworkRole, string>,
      nic: Object.fromEntries(NIC_ORDER.map((role, i) => [role, `eth${i}`])) as Record<NetworkRole, string>,
      bmcPort: config.fencing.bmcPortBase + index,
    };
  });
  return {
    config,
    prefix,
    networks,
    nodes,
    virtualIp: `${net}.${subnets.client}.${config.network.virtualIpHost}`,
    bmcAddress: `${net}.${subnets.management}.1`,
  };
}
