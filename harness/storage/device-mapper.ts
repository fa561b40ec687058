/**
 * The device-mapper layer under the store: on the lab, the DRBD backing disk is not the VM's disk
 * itself but a dm device over it (`hachaos-store`, a `linear` table), made at every boot before the
 * cluster starts. A disk fault swaps that table for another (the kernel's own dm targets, as
 * LINBIT's and xfstests' disk fault tests do) without restarting anything above it:
 *
 * - `flakey` with no feature: reads fail, writes pass (Linux documents it as "all I/O returns
 *   errors"; since 6.4 its name is `error_reads`, and a table without features still means it);
 *   `error_writes`: writes fail, reads pass; `drop_writes`: writes are acknowledged and thrown
 *   away (Documentation/admin-guide/device-mapper/dm-flakey.rst);
 * - `delay <dev> <offset> <ms>`: every read and write held for that long (dm-delay.rst);
 * - `dmsetup suspend`: every I/O queued until `dmsetup resume` (dmsetup(8)).
 *
 * Only `linear` tables are swapped: each segment is mapped to the same sectors of the same device,
 * so the original table comes back exactly. The original is kept on the node in
 * /run/ha-chaos/ (tmpfs: a reboot forgets it, and the boot makes the linear table anew) before the
 * first change, so a heal after a crashed run still finds it.
 */
import { shellQuote } from '../core/shell-quote.ts';

/** The lab's dm device under the store (`/dev/mapper/<name>`). */
export const STORE_DM_NAME = 'hachaos-store';
export const STORE_DM_DEVICE = `/dev/mapper/${STORE_DM_NAME}`;

/** A device-mapper name as `dmsetup` accepts it, and as the harness lets one reach a command line. */
export const DM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/;

/** Where the original table is kept on the node while a fault holds the device. */
export function savedTablePath(name: string): string {
  if (!DM_NAME.test(name)) throw new Error(`not a device-mapper name: use letters, digits, _ . + - (at most 64)`);
  return `/run/ha-chaos/dm-${name}.table`;
}

/** One segment of a `linear` table: `<start> <length> linear <device> <offset>` (sectors of 512 bytes). */
export interface LinearSegment {
  start: number;
  length: number;
  /** major:minor, or a /dev path. */
  device: string;
  offset: number;
}

/**
 * Parses `dmsetup table <name>` output into its linear segments. Throws, naming what it found,
 * for a table with any other target (a fault must not swap a crypt or thin table it cannot put
 * back) or for output that is not a table. Pure.
 */
export function parseLinearTable(text: string): LinearSegment[] {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!lines.length) throw new Error('the device has no table (dmsetup table printed nothing)');
  return lines.map((line, i) => {
    const m = /^(\d+) (\d+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} of its table is not a dm table line`);
    if (m[3] !== 'linear') throw new Error(`its table has a ${m[3]!.slice(0, 20)} segment: only linear tables are swapped by the disk faults (another fault's table left behind? heal it first)`);
    const args = /^(\d+:\d+|\/dev\/[A-Za-z0-9/_.+-]+) (\d+)$/.exec(m[4] ?? '');
    if (!args) throw new Error(`line ${i + 1} of its table is not "<start> <length> linear <device> <offset>"`);
    return { start: Number(m[1]), length: Number(m[2]), device: args[1]!, offset: Number(args[2]) };
  });
}

/** The table's size in sectors. Pure. */
export function tableSectors(segments: readonly LinearSegment[]): number {
  return segments.reduce((end, s) => Math.max(end, s.start + s.length), 0);
}

/** The table as `dmsetup` reads it. Pure. */
export function renderTable(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}

/** What a fault's table does to the device. */
export type DmFaultTable =
  /** Reads of [start, start+length) fail (bad sectors); the rest, and every write, pass. */
  | { kind: 'error-reads'; start: number; length: number }
  /** Every write fails; reads pass. */
  | { kind: 'error-writes' }
  /** Every write is acknowledged and thrown away; reads pass. */
  | { kind: 'drop-writes' }
  /** Every read and write held `delayMs`. */
  | { kind: 'delay'; delayMs: number };

/** A flakey segment that is always "down" (up interval 0, down interval an hour): its features act on every I/O. */
const flakey = (s: LinearSegment, start: number, length: number, features: string[]) =>
  `${start} ${length} flakey ${s.device} ${s.offset + (start - s.start)} 0 3600${features.length ? ` ${features.length} ${features.join(' ')}` : ''}`;
const linear = (s: LinearSegment, start: number, length: number) => `${start} ${length} linear ${s.device} ${s.offset + (start - s.start)}`;

/**
 * The fault's table over the same sectors as `original`: each linear segment becomes the fault's
 * target on the same device and offset (for bad sectors, only the part of it inside the bad range;
 * the rest stays linear). Pure.
 */
export function faultTable(original: readonly LinearSegment[], fault: DmFaultTable): string[] {
  return original.flatMap((s) => {
    switch (fault.kind) {
      case 'error-writes':
        return [flakey(s, s.start, s.length, ['error_writes'])];
      case 'drop-writes':
        return [flakey(s, s.start, s.length, ['drop_writes'])];
      case 'delay':
        return [`${s.start} ${s.length} delay ${s.device} ${s.offset} ${Math.round(fault.delayMs)}`];
      case 'error-reads': {
        const from = Math.max(s.start, fault.start);
        const to = Math.min(s.start + s.length, fault.start + fault.length);
        if (from >= to) return [linear(s, s.start, s.length)];
        return [
          ...(from > s.start ? [linear(s, s.start, from - s.start)] : []),
          // No feature: reads fail, writes pass (error_reads by its newer name).
          flakey(s, from, to - from, []),
          ...(to < s.start + s.length ? [linear(s, to, s.start + s.length - to)] : []),
        ];
      }
    }
  });
}

/** The targets a table uses (`flakey`, `delay`, `linear`, ...), from `dmsetup table`. Pure. */
export function tableTargets(text: string): string[] {
  return [...new Set(text.split('\n').map((l) => /^\d+ \d+ (\S+)/.exec(l.trim())?.[1]).filter((t): t is string => Boolean(t)))];
}

/**
 * Reads the device's table, keeping it in /run/ha-chaos first if no fault holds the device yet:
 * prints `@@saved` and the kept (original) table. The heal loads it back from there.
 */
export function saveTableScript(name: string): string {
  const saved = shellQuote(savedTablePath(name));
  const dm = shellQuote(name);
  return [
    'set -eu',
    'umask 077',
    'mkdir -p /run/ha-chaos',
    `if [ ! -s ${saved} ]; then dmsetup table ${dm} > ${saved}.new && mv -f ${saved}.new ${saved}; fi`,
    `echo @@saved; cat ${saved}`,
  ].join('\n');
}

/** Loads `table` into the device and makes it live at once (reload, then resume swaps it in). */
export function loadTableScript(name: string, table: readonly string[]): string {
  for (const line of table) if (!/^[0-9a-z_: /.+-]+$/.test(line)) throw new Error('a dm table line with characters a table never has');
  return `printf '%s\\n' ${table.map(shellQuote).join(' ')} | dmsetup reload ${shellQuote(name)} && dmsetup resume ${shellQuote(name)} && echo @@loaded`;
}

/** Holds every I/O of the device (queued until resumed). */
export function suspendScript(name: string): string {
  return `dmsetup suspend ${shellQuote(name)} && echo @@suspended`;
}

/**
 * The heal: the kept original table loaded back (a suspended device resumed on the way), the kept
 * copy removed; with no kept copy, a suspended device is still resumed. Idempotent.
 */
export function restoreTableScript(name: string): string {
  const saved = shellQuote(savedTablePath(name));
  const dm = shellQuote(name);
  return [
    'set -eu',
    `if [ -s ${saved} ]; then dmsetup reload ${dm} ${saved} && dmsetup resume ${dm} && rm -f ${saved} && echo @@restored; fi`,
    `if dmsetup info ${dm} | awk '/^State: *SUSPENDED/ { s = 1 } END { exit !s }'; then dmsetup resume ${dm} && echo @@resumed; fi`,
    'echo @@done',
  ].join('\n');
}

/** What the audit reads: the live table, the state, and whether a kept original is still there. */
export function dmAuditScript(name: string): string {
  const saved = shellQuote(savedTablePath(name));
  const dm = shellQuote(name);
  return `echo @@table; dmsetup table ${dm} 2>&1 || true; echo @@info; dmsetup info ${dm} 2>&1 | grep '^State:' || true; echo @@saved; if [ -e ${saved} ]; then echo kept; fi`;
}

/** Leftovers of a disk fault on `node`, from {@link dmAuditScript}'s output. Pure. */
export function dmLeftovers(node: string, name: string, output: string): string[] {
  const [, rest = ''] = output.split('@@table\n');
  const [table = '', rest2 = ''] = rest.split('@@info\n');
  const [info = '', saved = ''] = rest2.split('@@saved');
  const found: string[] = [];
  const targets = tableTargets(table).filter((t) => t !== 'linear');
  if (targets.length) found.push(`${node}: the store's dm device ${name} still has a fault's table (${targets.join(', ')})`);
  if (/SUSPENDED/.test(info)) found.push(`${node}: the store's dm device ${name} is suspended: every I/O to the store waits`);
  if (saved.includes('kept')) found.push(`${node}: the original table of ${name} is still kept in ${savedTablePath(name)} (a disk fault not healed)`);
  return found;
}

/**
 * The boot-time unit that makes the lab's linear dm device over the raw disk, before DRBD or the
 * cluster starts (the stack starts by the harness, after boot: start-on-boot is off). Idempotent.
 */
export function renderStoreDmUnit(raw: string): { script: string; unit: string } {
  const script = [
    '#!/bin/sh',
    '# generated by ha-chaos: the store\'s disk behind device-mapper (a linear table; the disk faults swap it)',
    'set -eu',
    `raw=${raw}`,
    `name=${STORE_DM_NAME}`,
    'i=0; while [ ! -b "$raw" ] && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done',
    '[ -b "$raw" ] || { echo "no $raw after 60 s" >&2; exit 1; }',
    'dmsetup info "$name" >/dev/null 2>&1 && exit 0',
    'dmsetup create "$name" --table "0 $(blockdev --getsz "$raw") linear $raw 0"',
    '',
  ].join('\n');
  const unit = [
    '[Unit]',
    'Description=ha-chaos: the mail store\'s disk behind device-mapper',
    'DefaultDependencies=no',
    'After=systemd-udevd.service local-fs-pre.target',
    'Before=drbd.service corosync.service pacemaker.service ssh.service',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'ExecStart=/usr/local/sbin/hachaos-store-dm',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return { script, unit };
}

/**
 * The provisioning steps that put `raw` behind the store's dm device on a node: the script and its
 * boot unit written, enabled, and run now. `inUse` says what may hold the disk directly when it
 * cannot (a lab made before the dm layer).
 */
export function renderStoreDmProvision(raw: string, inUse: string, file: (path: string, content: string, mode?: string) => string): string[] {
  const dm = renderStoreDmUnit(raw);
  return [
    file('/usr/local/sbin/hachaos-store-dm', dm.script, '0755'),
    file('/etc/systemd/system/hachaos-store-dm.service', dm.unit),
    'systemctl daemon-reload && systemctl enable -q hachaos-store-dm.service',
    `/usr/local/sbin/hachaos-store-dm || { echo "cannot put ${raw} behind device-mapper (${inUse}? a lab made before the dm layer: ha-chaos lab down, then lab up)" >&2; exit 1; }`,
  ];
}
