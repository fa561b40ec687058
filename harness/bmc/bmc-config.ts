/**
 * A virtual BMC's configuration: which node, where it listens, its credential, and the power
 * target its chassis control acts on. Read from the lab config or the `bmc serve` flags,
 * validated against schemas/bmc.schema.json; the password is resolved and registered as a secret
 * at once, so it can never reach a log or a report.
 */
import { statSync } from 'node:fs';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { readJsonFile } from '../core/json-file.ts';
import { validate, ValidationError, withLines } from '../core/schema.ts';
import { registerSecret } from '../core/secrets.ts';

/** A BMC's name (the node it manages): it names the BMC's directory, so nothing else is accepted. */
export const BMC_NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** What {@link BMC_NAME} means, in words. */
export const BMC_NAME_RULE = '1-31 lowercase letters, digits and dashes, starting with a letter (e.g. node1)';

/** IPMI 2.0 passwords are at most 20 bytes. */
export const MAX_PASSWORD_BYTES = 20;
export const MIN_PASSWORD_BYTES = 6;

/**
 * What is wrong with a password, in words that never include it; undefined when it is usable:
 * 6-20 bytes of printable ASCII, without spaces, quotes or backslashes (ipmi_sim's config
 * syntax cannot quote them, and control characters such as NUL, BEL or ESC have no place in a
 * credential typed into ipmitool).
 */
export function passwordProblem(password: string): string | undefined {
  const rule = `must be ${MIN_PASSWORD_BYTES}-${MAX_PASSWORD_BYTES} bytes of printable ASCII without spaces, quotes or backslashes`;
  const codes = [...password].map((c) => c.codePointAt(0)!);
  if (codes.some((c) => c < 0x20 || c === 0x7f)) return `password: contains a control character (such as NUL, BEL or ESC); it ${rule}`;
  if (codes.some((c) => c > 0x7f)) return `password: contains a non-ASCII character; it ${rule}`;
  if (/["'\s\\]/.test(password)) return `password: contains a space, a quote or a backslash; it ${rule}`;
  const bytes = Buffer.byteLength(password, 'utf8');
  if (bytes < MIN_PASSWORD_BYTES || bytes > MAX_PASSWORD_BYTES) return `password: is ${bytes} bytes long; it ${rule}`;
  return undefined;
}

/**
 * What is wrong with a BMC's listening address, or undefined when it is loopback (127.0.0.0/8)
 * or private (10/8, 172.16/12, 192.168/16: where a lab's own networks are). A BMC is an admin
 * interface that can power a machine off: it must never listen on every interface or on a
 * public address.
 */
export function addressProblem(address: string): string | undefined {
  const why = 'a BMC accepts power commands, so it belongs on loopback (127.0.0.1) or on the lab\'s own private network (such as 10.213.1.1)';
  const shown = address.length <= 45 ? address : 'the address';
  if (address.includes(':')) return `address: ${shown} is an IPv6 address${/^[0:]*$/.test(address) ? ' that listens on every interface' : ''}; use IPv4: ${why}`;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return undefined; // the schema says what is wrong with the format
  const [a, b] = m.slice(1).map(Number) as [number, number];
  if (address === '0.0.0.0') return `address: 0.0.0.0 listens on every interface; ${why}`;
  const loopback = a === 127;
  const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  if (!loopback && !isPrivate) return `address: ${shown} is neither a loopback nor a private address; ${why}`;
  return undefined;
}

/** The machine a BMC powers: a stand-in process (tests), a libvirt domain (the lab's VM), or a container (the container lane's node). */
export type PowerTargetSpec =
  | { kind: 'process'; command: string }
  | { kind: 'libvirt'; domain: string; uri?: string }
  | { kind: 'docker'; container: string };

/** The BMC config as written in a file (credential by reference or inline). */
export interface BmcConfigInput {
  name: string;
  address?: string;
  port: number;
  username: string;
  password?: string;
  passwordFile?: string;
  passwordEnv?: string;
  target: PowerTargetSpec;
}

/** A validated BMC config with its password resolved. */
export interface BmcConfig {
  name: string;
  address: string;
  port: number;
  username: string;
  password: string;
  target: PowerTargetSpec;
}

/** Where to reach a BMC, without its secret (safe to log and report). */
export interface BmcEndpoint {
  name: string;
  address: string;
  port: number;
  username: string;
}

/** The oneOf on credentials produces unreadable ajv errors; say it plainly first. */
function checkCredentialChoice(input: Record<string, unknown>, source: string): void {
  const given = ['password', 'passwordFile', 'passwordEnv'].filter((k) => k in input);
  if (given.length !== 1) {
    throw new ValidationError(source, [
      given.length === 0
        ? 'password: missing: give exactly one of password, passwordFile, passwordEnv'
        : `${given.join(', ')}: give exactly one of password, passwordFile, passwordEnv, not ${given.length}`,
    ]);
  }
}

/** Registers what may be a secret (it is masked from then on), even when it will be refused. */
function maskEarly(value: string): void {
  for (const v of new Set([value, value.trim()])) if (v.length >= 3 && /[\p{L}\p{N}]/u.test(v)) registerSecret(v);
}

/** Validates a BMC config and resolves its password. Errors name the field and never quote the password. */
export function parseBmcConfig(input: unknown, source = 'BMC config'): BmcConfig {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const fields = input as Record<string, unknown>;
    // A password is masked before anything can print it, a refusal included.
    if (typeof fields.password === 'string') maskEarly(fields.password);
    checkCredentialChoice(fields, source);
    if (typeof fields.address === 'string') {
      const problem = addressProblem(fields.address);
      if (problem) throw new ValidationError(source, [problem], ['/address']);
    }
  }
  const raw = validate<BmcConfigInput>('bmc', input, source);
  let password: string;
  if (raw.password !== undefined) password = raw.password;
  else if (raw.passwordFile !== undefined) {
    let content: string;
    try {
      content = readInputFile(raw.passwordFile, { maxBytes: INPUT_LIMITS.password, what: 'password file', kind: 'credential' });
    } catch (error) {
      const problem = error instanceof ValidationError ? error.problems[0]! : (error as Error).message;
      throw new ValidationError(source, [`passwordFile: ${raw.passwordFile}: ${problem}`], ['/passwordFile']);
    }
    maskEarly(content);
    // One line: the password, and at most the line break after it.
    password = content.replace(/\r?\n$/, '');
  } else {
    const value = process.env[raw.passwordEnv!];
    if (!value) throw new ValidationError(source, [`passwordEnv: environment variable ${raw.passwordEnv} is not set`], ['/passwordEnv']);
    maskEarly(value);
    password = value;
  }
  const problem = passwordProblem(password);
  if (problem) throw new ValidationError(source, [problem], ['/password']);
  registerSecret(password);
  return {
    name: raw.name,
    address: raw.address ?? '127.0.0.1',
    port: raw.port,
    username: raw.username,
    password,
    target: raw.target.kind === 'libvirt' ? { ...raw.target, uri: raw.target.uri ?? 'qemu:///system' } : raw.target,
  };
}

/** Reads a BMC config file (a bounded regular file, strict JSON) and validates it; errors name the file, the line and the field. */
export function loadBmcConfig(file: string): BmcConfig {
  const parsed = readJsonFile(file, { maxBytes: INPUT_LIMITS.bmcConfig, what: 'BMC config' });
  let config: BmcConfig;
  try {
    config = parseBmcConfig(parsed.value, file);
  } catch (error) {
    throw error instanceof ValidationError ? withLines(error, parsed.lineOf) : error;
  }
  if (config.target.kind === 'process') {
    // The stand-in process's command runs as this user: only a file this user owns, and no one else can change, may name one.
    const stats = statSync(file);
    const uid = process.geteuid?.();
    if ((uid !== undefined && stats.uid !== uid) || (stats.mode & 0o022) !== 0) {
      throw withLines(new ValidationError(file, ['/target/command: a BMC config that names a command to run must be your own file, writable by no one else (chmod go-w)'], ['/target/command']), parsed.lineOf);
    }
  }
  return config;
}

/** The public part of a config. */
export function endpointOf(config: BmcConfig): BmcEndpoint {
  return { name: config.name, address: config.address, port: config.port, username: config.username };
}
