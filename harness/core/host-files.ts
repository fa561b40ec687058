/**
 * The harness runs as root on shared CI hosts, and reads files that many people can change
 * (target files in a repository, credential files beside them). This module is where the host
 * is protected from them:
 *
 * - {@link pathProblem}: a path that reaches a config file or a command line holds only letters,
 *   digits and `._/+=@,:-` (and inner spaces): no quote, backslash, `%`, `#`, `$` or control
 *   character can start a new line or token in ssh_config, snmp.conf or a shell.
 * - {@link vetInputFile}: a file named by input is refused when it is a symbolic link (the
 *   harness follows none it did not make), sits in a system directory (/etc, /proc, /root/.ssh,
 *   ...), or is another user's private file; a credential must also be this user's own.
 * - {@link ensurePrivateDir} and {@link writePrivateFile}: everything the harness writes goes in
 *   directories that are this user's and writable by no one else, opened without following a
 *   symbolic link, with its mode set on every write (not only when it is created).
 *
 * Every refusal is a {@link ValidationError} (exit code 2) that names the path or the field and
 * never quotes what the file holds.
 */
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, realpathSync, writeSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { ValidationError } from './schema.ts';

/** The characters a path may hold where it reaches a config file or a command line. */
export const SAFE_PATH = /^[A-Za-z0-9._/+=@,:][A-Za-z0-9._/+=@,: -]*$/;
/** {@link SAFE_PATH} in words. */
export const SAFE_PATH_RULE = 'letters, digits, spaces and . _ / + = @ , : - only (not starting with a dash or a space)';

/** True when `text` holds a control character (C0, DEL or C1: a newline, a carriage return, NUL, ESC...). */
export function hasControlCharacter(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}

/** What is wrong with a path that will be written into a config file or passed to a command, or undefined. Never quotes the value. */
export function pathProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > 4096) return 'is longer than 4096 characters';
  if (hasControlCharacter(value)) return 'contains a control character (a newline, a carriage return, NUL...)';
  if (!SAFE_PATH.test(value) || value.endsWith(' ')) return `contains a character a config file or a shell would read as syntax: use ${SAFE_PATH_RULE}`;
  return undefined;
}

/**
 * Directories whose files the harness never reads as input: the system's configuration and
 * credentials, kernel interfaces, and the SSH and GnuPG directories of any user.
 */
const SYSTEM_DIRS = ['/etc', '/proc', '/sys', '/dev', '/boot', '/run', '/var/log', '/var/spool', '/var/mail', '/var/backups', '/var/cache', '/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32', '/snap'];
const PRIVATE_COMPONENTS = ['.ssh', '.gnupg', '.password-store', '.aws', '.kube', '.docker'];

/** What is wrong with reading `path` (absolute, links resolved where they exist) as input: it lies in a system directory. */
export function systemPathProblem(path: string): string | undefined {
  const system = SYSTEM_DIRS.find((d) => inside(path, d));
  return system ? `it is a system file (under ${system}): the harness reads only files made for it` : undefined;
}

/** What a file named by input is, for the rules it must meet. */
export type InputKind =
  /** Read and parsed (scenario, target file, lab config, run directory): refused when private to another user. */
  | 'input'
  /** A password, passphrase or accounts file: must be this user's own. */
  | 'credential'
  /** An SSH private key handed to ssh: must be this user's own (ssh checks its mode itself). */
  | 'key'
  /** A package copied to the nodes: must be this user's own or readable by everyone. */
  | 'package'
  /** A file of the harness's own state (wherever HA_CHAOS_STATE_DIR puts it): must be this user's own. */
  | 'state';

/** The users whose files count as this user's own: the effective user, and the one who ran sudo. */
function ownUids(): number[] {
  const uid = euid();
  const sudo = Number(process.env.SUDO_UID);
  return [uid, Number.isInteger(sudo) && uid === 0 ? sudo : undefined].filter((u): u is number => u !== undefined);
}

/** The effective user: the only owner of what the harness writes. */
function euid(): number | undefined {
  return process.geteuid?.() ?? process.getuid?.();
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}${sep}`);
}

/**
 * What is wrong with reading `stats` of the file at `path` as `kind`, or undefined. `path` is the
 * path as given (its last component is not a link: the caller opened or lstat'ed it so).
 */
export function inputFileProblem(path: string, stats: Pick<Stats, 'uid' | 'mode'>, kind: InputKind): string | undefined {
  const own = ownUids().includes(stats.uid);
  if (kind === 'state') return own ? undefined : `it belongs to uid ${stats.uid}, not to this user: it is not the harness's own state`;
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    real = resolve(path);
  }
  const system = systemPathProblem(real);
  if (system) return system;
  const component = PRIVATE_COMPONENTS.find((c) => real.split(sep).includes(c));
  if (component && kind !== 'key') return `it lies in a ${component} directory: the harness reads no file from there as ${kind === 'credential' ? 'a credential' : 'input'}`;
  const worldReadable = (stats.mode & 0o004) !== 0;
  if ((kind === 'credential' || kind === 'key') && !own) return `it belongs to uid ${stats.uid}, not to this user: a credential must be the user's own file`;
  if (!own && !worldReadable) return `it is private to uid ${stats.uid} (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}): the harness does not read another user's private files`;
  return undefined;
}

/**
 * Checks a file named by input before anything reads it or hands it on: it exists, is a regular
 * file and not a symbolic link, and meets {@link inputFileProblem}. `what` names it in errors.
 */
export function vetInputFile(path: string, kind: InputKind, what: string, field = what): Stats {
  const fail = (problem: string) => new ValidationError(path, [`${field}: cannot use this ${what}: ${problem}`], [field]);
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' || code === 'ENOTDIR' ? 'it does not exist' : `it cannot be read (${code ?? 'error'})`);
  }
  if (stats.isSymbolicLink()) throw fail('it is a symbolic link; name the file it points to (the harness follows no link it did not make)');
  if (!stats.isFile()) throw fail('it is not a regular file');
  const problem = inputFileProblem(path, stats, kind);
  if (problem) throw fail(problem);
  return stats;
}

/** A directory or file of the harness's own state that someone else could change: refused, never used. */
export class UnsafeStateError extends ValidationError {
  constructor(path: string, problem: string) {
    super(path, [`${problem}; remove it, or set HA_CHAOS_STATE_DIR to a directory of your own`]);
    this.name = 'UnsafeStateError';
  }
}

function describeOwnership(stats: Stats): string | undefined {
  if (stats.isSymbolicLink()) return 'is a symbolic link the harness did not make';
  if (!stats.isDirectory()) return 'is not a directory';
  if (stats.uid !== euid()) return `belongs to uid ${stats.uid}, not to this user`;
  return undefined;
}

/**
 * Makes `dir` (mode 0700 by default) and checks it and each of its parents up to `root`: real
 * directories (no link), this user's, and writable by nobody else. `root` itself (the state or
 * reports directory) is checked the same way. Returns `dir`.
 */
export function ensurePrivateDir(dir: string, root: string = dir, mode = 0o700): string {
  const target = resolve(dir);
  const top = resolve(root);
  if (!inside(target, top)) throw new UnsafeStateError(target, `is outside ${top}, the harness's own directory`);
  mkdirSync(target, { recursive: true, mode });
  const chain: string[] = [];
  for (let d = target; ; d = dirname(d)) {
    chain.unshift(d);
    if (d === top || d === dirname(d)) break;
  }
  for (const d of chain) {
    const stats = lstatSync(d);
    const problem = describeOwnership(stats);
    if (problem) throw new UnsafeStateError(d, `${d} ${problem}`);
    if ((stats.mode & 0o022) !== 0) throw new UnsafeStateError(d, `${d} is writable by other users (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')})`);
  }
  return target;
}

/**
 * Writes `data` to `path` in a directory the caller made with {@link ensurePrivateDir}: opened
 * without following a symbolic link, refused when it is anything but this user's regular file,
 * and set to `mode` on every write (a file that existed with a wider mode is narrowed first).
 */
export function writePrivateFile(path: string, data: string | Uint8Array, mode = 0o600, flags: 'w' | 'a' = 'w'): void {
  const open = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK | (flags === 'a' ? constants.O_APPEND : 0);
  let fd: number;
  try {
    fd = openSync(path, open, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UnsafeStateError(path, `${path} is a symbolic link the harness did not make`);
    if (code === 'ENXIO') throw new UnsafeStateError(path, `${path} is not a regular file`);
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UnsafeStateError(path, `${path} is not a regular file`);
    if (stats.uid !== euid()) throw new UnsafeStateError(path, `${path} belongs to uid ${stats.uid}, not to this user`);
    fchmodSync(fd, mode);
    // Truncated only after the checks: a file that is not ours is left as it was.
    if (flags === 'w') ftruncateSync(fd, 0);
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
  } finally {
    closeSync(fd);
  }
}

