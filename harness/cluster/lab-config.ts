/**
 * The lab config (vagrant/lab.json by default, or a file given with --config), validated against
 * schemas/lab.schema.json, and the plan derived from it: every address, MAC, libvirt name and BMC
 * port, computed in one place from the one range the lab owns.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pathProblem, vetInputFile } from '../core/host-files.ts';
import { INPUT_LIMITS } from '../core/input-file.ts';
import { readJsonFile } from '../core/json-file.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { validate, ValidationError, withLines } from '../core/schema.ts';
import type { ClusterPlan, ClusterNode } from './plan.ts';

export interface LabConfig {
  name: string;
  network: {
    prefix: string;
    subnets: Record<NetworkRole, number>;
    virtualIpHost: number;
  };
  nodes: { cpus: number; memoryMiB: number; storageGiB: number };
  storage: 'drbd' | 'shared';
  fencing: {
    /** The power device and its fence agent: each node's IPMI BMC, or a switched PDU's outlets. */
    agent: 'fence_ipmilan' | 'fence_apc_snmp';
    /** The power devices' user (IPMI user, or SNMPv3 user of the PDUs). */
    bmcUsername: string;
    /** BMC of node N on base+N; PDU P on base+10+P. */
    bmcPortBase: number;
    delayNode1: string;
    pingHeuristic?: boolean;
    /**
     * A second fencing level after the BMCs (agent fence_ipmilan): the PDU outlets feeding each
     * node, tried when its BMC cannot confirm the fence (a mains loss takes the BMC down too).
     */
    secondLevel?: 'fence_apc_snmp';
    /** PDUs only (agent fence_apc_snmp, or secondLevel): power supplies per node, each on its own outlet (default 1). */
    powerSupplies?: 1 | 2;
    /** PDUs only: how many PDUs (default 1); with 2 supplies and 2 PDUs, each supply is on its own PDU. */
    pdus?: 1 | 2;
  };
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

export interface NodePlan extends ClusterNode {
  domain: string;
  /** Static addresses on every network but management. */
  ip: Record<Exclude<NetworkRole, 'management'>, string>;
  mac: Record<NetworkRole, string>;
  /** Guest interface name per role (net.ifnames=0: eth0..eth4). */
  nic: Record<NetworkRole, string>;
  bmcPort: number;
  /** The node's power supplies: the device (a BMC: the node's name; a PDU: its name) and, for a PDU, the outlet. */
  supplies: SupplyPlan[];
}

/** One power supply of a node. */
export interface SupplyPlan {
  /** The power device's name: the node's own name for its BMC, `pdu1`/`pdu2` for a PDU. */
  device: string;
  /** PDU outlet number (none for a BMC). */
  outlet?: number;
  /** `bmc`, or `<pdu>:<outlet>`: the name the power logs and checkers use. */
  id: string;
  /** The outlet's label on the PDU, e.g. node1-psu1. */
  label: string;
  /** 1-based supply index on its node. */
  index: number;
}

/** One power device the lab runs on the host. */
export type PowerDevicePlan =
  | { kind: 'ipmi'; name: string; node: string; port: number }
  | { kind: 'pdu'; name: string; port: number; outlets: Array<{ outlet: number; node: string; label: string }> };

/** The lab's plan: the target's layout (see target.ts's ClusterPlan) and every libvirt name and address. */
export interface LabPlan extends ClusterPlan {
  config: LabConfig;
  /** Prefix of every libvirt object the lab makes. */
  prefix: string;
  networks: NetworkPlan[];
  nodes: NodePlan[];
  virtualIp: string;
  /** Where the BMCs (or PDUs) listen: the host side of the management network, which no node fault cuts. */
  bmcAddress: string;
  /** The power devices: a BMC per node, or one or two PDUs. */
  powerDevices: PowerDevicePlan[];
  /**
   * Who gives the nodes their cluster addresses: provisioning writes networkd files (default: the
   * lab's VMs), or the platform's networks already did (the container lane's docker networks).
   */
  addressesGiven?: boolean;
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
  const { agent, powerSupplies, pdus, secondLevel } = config.fencing;
  if (secondLevel && agent !== 'fence_ipmilan') throw fail('/fencing/secondLevel', 'is a PDU level after the BMCs: it needs agent fence_ipmilan (a PDU lab has its PDUs as its one level)');
  if (agent === 'fence_ipmilan' && !secondLevel && (powerSupplies !== undefined || pdus !== undefined)) {
    throw fail(`/fencing/${powerSupplies !== undefined ? 'powerSupplies' : 'pdus'}`, 'is for PDUs (agent fence_apc_snmp, or secondLevel: fence_apc_snmp); a BMC powers its node as one supply');
  }
  if (pdus === 2 && (powerSupplies ?? 1) === 1) throw fail('/fencing/pdus', 'two PDUs need two power supplies per node (powerSupplies: 2), one on each');
  if (config.mail.package !== null) {
    // Axigen from the user's package (harness/mail/axigen.ts): it must be there before anything starts.
    const problem = packageProblem(config.mail.package);
    if (problem) throw fail('/mail/package', `${problem}; give the path of an Axigen .deb, or null for the open stand-in (Postfix + Dovecot)`);
  }
  return config;
}

/** What is wrong with a mail package path, or undefined. Never quotes the file. */
function packageProblem(path: string): string | undefined {
  const unsafe = pathProblem(path);
  if (unsafe) return `the path ${unsafe}`;
  if (!isAbsolute(path)) return `${path} is not an absolute path`;
  // Axigen 10.0 shipped a self-extracting `.deb.run` (dpkg-deb cannot read it); the harness never runs an installer as root.
  if (/\.run$/.test(path)) {
    return `${path} is a self-extracting installer (.deb.run), which the harness does not run: extract the .deb from it first, on a machine you trust, as its own help says (\`sh ${path.split('/').pop()} --help\`; a makeself archive takes \`--noexec --target <dir>\`), or download Axigen's .deb (10.6 ships axigen_<version>_amd64.deb), and give that .deb`;
  }
  if (!path.endsWith('.deb')) return `${path} is not a Debian package (.deb)`;
  try {
    vetInputFile(path, 'package', 'mail package', '/mail/package');
  } catch (error) {
    if (error instanceof ValidationError) return error.problems[0]!.replace(/^\/mail\/package: /, '');
    throw error;
  }
  return debProblem(path);
}

/** The first bytes of every Debian package: an ar archive whose first member is debian-binary (deb(5)). */
const DEB_MAGIC = Buffer.from('!<arch>\ndebian-binary   ');

/** What is wrong with the file's content as a .deb, or undefined: a text file named .deb is not a package. */
function debProblem(path: string): string | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const head = Buffer.alloc(DEB_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === head.length && head.equals(DEB_MAGIC) ? undefined : `${path} is named .deb but is not a Debian package (no ar archive starting with debian-binary, see deb(5))`;
  } finally {
    closeSync(fd);
  }
}

/** The cluster-wide secrets of one lab (kept in the lab's state dir, mode 0600). */
export interface LabSecrets {
  bmcPassword: string;
  /** corosync authkey, base64. */
  corosyncKey: string;
  /** Mail account passwords, by account name (user1...). */
  accounts: Record<string, string>;
}

/** The lab's test accounts: user1, user2, ... */
export function accountNames(plan: LabPlan): string[] {
  return Array.from({ length: plan.config.mail.accounts }, (_, i) => `user${i + 1}`);
}
