/**
 * Reading the files people and earlier runs hand the harness (scenario files, lab and BMC configs,
 * password files, run directories). Only a regular file is read, never through a symbolic link,
 * never a system file or another user's private one (see host-files.ts), and only up to a size limit:
 * /dev/zero, a FIFO (which would block forever), a directory or a socket is refused at once, and
 * so is a file larger than its limit. Every refusal is a {@link ValidationError} naming the file
 * (exit code 2), never a bare ENOENT or a hang.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { inputFileProblem, type InputKind } from './host-files.ts';
import { ValidationError } from './schema.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Size limits of each kind of input, in bytes: generous for real files, far below what hurts. */
export const INPUT_LIMITS = {
  scenario: 256 * KiB,
  labConfig: 256 * KiB,
  targetFile: 256 * KiB,
  /** A target's accounts file: `user password` lines. */
  accounts: 256 * KiB,
  bmcConfig: 64 * KiB,
  /** An SSH private key (RSA 16384 in PEM is ~12 KiB). */
  sshKey: 64 * KiB,
  /** A known_hosts file that seeds a target's pinned host keys. */
  knownHosts: 1 * MiB,
  password: 1 * KiB,
  /** run.json: the scenario, the lab config and the schedule. */
  manifest: 4 * MiB,
  results: 16 * MiB,
  /** certify-<time>.json: a certification's record (its run directories' names). */
  certification: 8 * MiB,
  observations: 64 * MiB,
  /** history.jsonl of a long run (a 7-minute run writes ~100 KiB). */
  history: 256 * MiB,
  /** Files the harness itself keeps in its state directories (bmc.json, secrets.json, password). */
  state: 1 * MiB,
} as const;

/** Why a file could not be read. */
export type UnreadableReason = 'missing' | 'not-regular' | 'too-large' | 'not-text' | 'unreadable' | 'refused';

/** A file that could not be read as input: missing, not a regular file, too large, or not text. */
export class UnreadableInputError extends ValidationError {
  constructor(
    file: string,
    readonly reason: UnreadableReason,
    problem: string,
  ) {
    super(file, [problem]);
    this.name = 'UnreadableInputError';
  }
}

export interface ReadInputOptions {
  /** The largest file accepted, in bytes (see {@link INPUT_LIMITS}). */
  maxBytes: number;
  /** What the file is, for messages: `scenario file`, `lab config`, `password file`. */
  what: string;
  /** The rules it must meet before it is read (see {@link inputFileProblem}); default `input`. */
  kind?: InputKind;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function openError(file: string, what: string, error: NodeJS.ErrnoException): UnreadableInputError {
  switch (error.code) {
    case 'ENOENT':
      return new UnreadableInputError(file, 'missing', `cannot read this ${what}: it does not exist`);
    case 'EACCES':
    case 'EPERM':
      return new UnreadableInputError(file, 'unreadable', `cannot read this ${what}: permission denied`);
    case 'ENXIO':
      return new UnreadableInputError(file, 'not-regular', `cannot read this ${what}: it is a socket, not a regular file`);
    case 'ENOTDIR':
      return new UnreadableInputError(file, 'missing', `cannot read this ${what}: a part of its path is not a directory`);
    case 'ELOOP':
      return new UnreadableInputError(file, 'unreadable', `cannot read this ${what}: it is a symbolic link; name the file it points to (the harness follows no link it did not make)`);
    default:
      return new UnreadableInputError(file, 'unreadable', `cannot read this ${what}: ${error.code ?? error.message}`);
  }
}

/**
 * Reads a regular file of at most `maxBytes` as UTF-8 text (a leading byte-order mark dropped).
 * Never blocks on a FIFO or device: it is opened non-blocking and refused by its type before
 * anything is read. Throws {@link UnreadableInputError} naming the file.
 */
export function readInputFile(file: string, options: ReadInputOptions): string {
  const { maxBytes, what, kind = 'input' } = options;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | constants.O_NOFOLLOW);
  } catch (error) {
    throw openError(file, what, error as NodeJS.ErrnoException);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UnreadableInputError(file, 'not-regular', `cannot read this ${what}: it is ${kindOf(stats)}, not a regular file`);
    const refused = inputFileProblem(file, stats, kind);
    if (refused) throw new UnreadableInputError(file, 'refused', `cannot read this ${what}: ${refused}`);
    const tooLarge = () => new UnreadableInputError(file, 'too-large', `cannot read this ${what}: it is larger than the limit of ${maxBytes} bytes`);
    if (stats.size > maxBytes) throw tooLarge();
    // The size can change while it is read: read at most one byte more than the limit.
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) throw tooLarge();
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    const bytes = buffer.subarray(0, length);
    if (bytes.includes(0)) throw new UnreadableInputError(file, 'not-text', `cannot read this ${what}: it contains NUL bytes, so it is not a text file`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new UnreadableInputError(file, 'not-text', `cannot read this ${what}: it is not UTF-8 text`);
    }
    return text.startsWith('\uFEFF') ? text.slice(1) : text;
  } catch (error) {
    if (error instanceof UnreadableInputError) throw error;
    throw openError(file, what, error as NodeJS.ErrnoException);
  } finally {
    closeSync(fd);
  }
}
