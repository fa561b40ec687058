/**
 * Reading a failover out of a node's journal (`journalctl -o short-unix`): when the peer's loss
 * was detected, when fencing was requested and confirmed, when DRBD was promoted, the file
 * system mounted, the IP raised and the mail service started. Pure: tested on literal lines.
 */
import { drbdStore } from '../storage/drbd.ts';
import type { StoreBackend } from '../storage/store-backend.ts';

export interface JournalLine {
  /** Node clock, epoch ms. */
  time: number;
  text: string;
}

/** Parses `journalctl -o short-unix` output. */
export function parseJournal(text: string): JournalLine[] {
  const lines: JournalLine[] = [];
  for (const raw of text.split('\n')) {
    const m = /^(\d+)\.(\d+) (.*)$/.exec(raw);
    if (m) lines.push({ time: Number(m[1]) * 1000 + Number(m[2]!.padEnd(6, '0').slice(0, 6)) / 1000, text: m[3]! });
  }
  return lines;
}

export interface FailoverEvents {
  /** Phase name -> first occurrence (node clock). */
  phases: Record<string, number>;
  /** Fencing operations against `target` that the journal reports as finished. */
  fences: { target: string; action: string; ok: boolean; time: number }[];
  /** This node taking the store over (node clock): the store's `takeover` line (a DRBD promote). */
  takeovers: number[];
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Finds the failover's moments in the survivor's journal, from `since` (node clock) on. */
export function failoverEvents(lines: JournalLine[], failed: string, since: number, failedNodeId?: number, store: Pick<StoreBackend, 'takeover' | 'takeoverPhase'> = drbdStore, mailResources: readonly string[] = ['smtp', 'imap']): FailoverEvents {
  const { takeover, takeoverPhase } = store;
  const f = esc(failed);
  const host = failedNodeId === undefined ? '\\d+' : String(failedNodeId);
  const patterns: Record<string, RegExp> = {
    detected: new RegExp(`(A processor failed|Token has not been received|Node ${f} state is now lost|host: ${host} has no active links|link: host: ${host} link: \\d+ is down)`),
    'fence-requested': new RegExp(`(Requesting (peer )?fencing \\(\\w+\\) (of|targeting) (node )?${f}|Client .* wants to fence \\(\\w+\\) '?${f})`),
    'fence-confirmed': new RegExp(`(${f} was terminated \\(\\w+\\) by .*: OK|Operation '?\\w+'? \\[\\d+\\] (for host|targeting) '?${f}'? .*(OK|ok))`),
    // The store taken over (the one definition, from the storage seam), as a phase of its own
    // where it is one (DRBD's promote); a shared store's takeover is its mount, fs-mounted.
    ...(takeoverPhase ? { [takeoverPhase]: takeover } : {}),
    'fs-mounted': /Result of start operation for fs_\w+ on \S+: ok/,
    'ip-up': /Result of start operation for vip on \S+: ok/,
    // Each mail resource's start (the mail-service seam names them: smtp and imap, or axigen).
    ...Object.fromEntries(mailResources.map((id) => [`${id}-started`, new RegExp(`Result of start operation for ${esc(id)} on \\S+: ok`)])),
  };
  const phases: Record<string, number> = {};
  const fences: FailoverEvents['fences'] = [];
  const takeovers: number[] = [];
  for (const line of lines) {
    if (line.time < since) continue;
    for (const [phase, re] of Object.entries(patterns)) if (phases[phase] === undefined && re.test(line.text)) phases[phase] = line.time;
    if (takeover.test(line.text)) takeovers.push(line.time);
  }
  fences.push(...fenceResults(lines, since).filter((r) => r.target === failed));
  return { phases, fences, takeovers };
}

/** Each start of a mail resource that Pacemaker logged as done, on any node, from `since` on (an in-place restart is on the failed node itself). Pure. */
export function mailStarts(lines: JournalLine[], since: number, mailResources: readonly string[]): { resource: string; time: number }[] {
  const re = new RegExp(`Result of start operation for (${mailResources.map(esc).join('|')}) on \\S+: ok`);
  return lines.filter((l) => l.time >= since).flatMap((l) => {
    const m = re.exec(l.text);
    return m ? [{ resource: m[1]!, time: l.time }] : [];
  });
}

/** Every finished fencing operation the controller logged, whatever its target, from `since` on. */
export function fenceResults(lines: JournalLine[], since: number): FailoverEvents['fences'] {
  // pacemaker-controld: "Peer <target> was[ not] terminated (<action>) by <who> on behalf of <client>: <result>"
  const re = /(?:Peer )?(\S+) was( not)? terminated \((\w+)\) by .*: (\S+)/;
  const out: FailoverEvents['fences'] = [];
  for (const line of lines) {
    if (line.time < since) continue;
    const m = re.exec(line.text);
    if (m) out.push({ target: m[1]!, action: m[3]!, ok: !m[2] && m[4] === 'OK', time: line.time });
  }
  return out;
}

/** A moment Pacemaker throttled itself for the node's load (pacemaker-controld's throttle messages). */
export interface ThrottleEvent {
  /** Node clock, epoch ms. */
  time: number;
  text: string;
}

/** Pacemaker's messages that it found the node's load too high and ran fewer operations at once. Pure. */
/**
 * The kernel's own lines about the store's disk from `since` (node clock): DRBD's state changes
 * and I/O failures, its replication link's breaks that keep the copies apart, device-mapper,
 * block I/O errors, the file system's errors. What a verdict on a
 * disk fault quotes when the cluster did something else than documented. Pure.
 */
export function diskKernelLines(lines: JournalLine[], since: number, max = 30): ThrottleEvent[] {
  // The disk's own (I/O errors, attach and detach, role changes), and the replication link's that
  // leave the copies apart (a missed PingAck, a refused resync, a split brain, StandAlone).
  const re =
    /kernel: (?:block drbd\d+: (?:.*IO error|.*disk\(|.*Detaching|.*Local IO failed|.*role\(|.*I shall become Sync|.*Split-Brain)|drbd \S+: .*(?:IO error|Detaching|PingAck did not arrive|-> NetworkFailure|-> StandAlone|Split-Brain)|device-mapper: |.*\bI\/O error\b|Buffer I\/O error|EXT4-fs error)/;
  // device-mapper's own start-up lines at a boot (core, uevent, ioctl versions) say nothing about the disk.
  const boot = /kernel: device-mapper: (?:core: CONFIG_|uevent: version|ioctl: \d)/;
  return lines
    .filter((l) => l.time >= since && re.test(l.text) && !boot.test(l.text))
    .slice(0, max)
    .map((l) => ({ time: l.time, text: l.text.replace(/^\S+ kernel: /, '').slice(0, 200) }));
}

export function throttleEvents(lines: JournalLine[], since: number): ThrottleEvent[] {
  const re = /(High (CPU|disk I\/O) load detected|Moderate (CPU|disk I\/O) load detected|New throttle mode)/;
  return lines.filter((l) => l.time >= since && re.test(l.text)).map((l) => ({ time: l.time, text: l.text.replace(/^\S+ \S+: /, '').slice(0, 200) }));
}
