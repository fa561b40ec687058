/** DRBD's names and its /proc/drbd, shared by the store (drbd.ts) and its online verify (drbd-verify.ts). */
import type { DrbdState } from '../cluster/status.ts';

import { STORE_DM_DEVICE } from './device-mapper.ts';

/**
 * The one DRBD resource, its device and its backing disk: on the lab, the node's second disk
 * (`DRBD_RAW_DISK`) behind a device-mapper device (`DRBD_DISK`), whose table the disk faults swap.
 */
export const DRBD_RESOURCE = 'mail';
export const DRBD_DEVICE = '/dev/drbd0';
export const DRBD_RAW_DISK = '/dev/vdb';
export const DRBD_DISK = STORE_DM_DEVICE;

/** A DRBD promote that succeeded, in Pacemaker's log: the node's copy became writable. */
export const DRBD_TAKEOVER = /Result of promote operation for drbd_\w+ on \S+: ok/;

/** Parses the first device of `/proc/drbd` (DRBD 8.4). Unconfigured -> cs Unconfigured. */
export function parseProcDrbd(text: string): DrbdState {
  const line = /^\s*0:\s+cs:(\S+)(?:\s+ro:(\S+)\/(\S+)\s+ds:(\S+)\/(\S+))?/m.exec(text);
  if (!line) return { cs: 'Unconfigured', role: 'Unconfigured', peerRole: 'Unknown', disk: 'Diskless', peerDisk: 'DUnknown', outOfSyncKiB: 0 };
  const oos = /oos:(\d+)/.exec(text);
  return {
    cs: line[1]!,
    role: line[2] ?? 'Unconfigured',
    peerRole: line[3] ?? 'Unknown',
    disk: line[4] ?? 'Diskless',
    peerDisk: line[5] ?? 'DUnknown',
    outOfSyncKiB: oos ? Number(oos[1]) : 0,
  };
}

