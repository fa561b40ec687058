/**
 * What any two-node cluster is, as data: its nodes, their cluster NICs, the store's architecture,
 * the virtual IP and the mail domain. Every platform (lab, lane, an existing cluster) describes
 * its cluster this way; checks, faults and observers read only this.
 */

/** The networks a cluster node has a NIC on (management, which carries SSH, is not one). */
export type NicRole = 'client' | 'ring0' | 'ring1' | 'replication';
export const NIC_ROLES: readonly NicRole[] = ['client', 'ring0', 'ring1', 'replication'];

/** The mail store's architecture: DRBD-replicated local disks, or one disk attached to both nodes. */
export type StorageKind = 'drbd' | 'shared';

/** One node of the cluster as a run sees it. */
export interface ClusterNode {
  name: string;
  /** 1-based position (node1, node2). */
  index: number;
  /** Interface name per cluster network, as the node names it (empty: the node has none, e.g. no replication link on a shared store). */
  nic: Record<NicRole, string>;
}

/** The cluster's layout: what checks, faults and observers read. Pure data. */
export interface ClusterPlan {
  /** The lab's name, or the target file's cluster name. */
  name: string;
  storage: StorageKind;
  nodes: ClusterNode[];
  virtualIp: string;
  /** The mail domain of the test accounts. */
  mailDomain: string;
  /** What serves mail (harness/mail/): the open stand-in, or Axigen. */
  mailService: 'postfix-dovecot' | 'axigen';
  /**
   * The device-mapper device (its name under /dev/mapper) the store's disk sits on, whose table the
   * disk faults swap and restore: the lab's own, or the one a target file names. Absent: no disk
   * fault that needs it applies.
   */
  storeDm?: string;
}

