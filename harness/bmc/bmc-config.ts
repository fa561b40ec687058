/**
 * A virtual BMC's configuration: which node, where it listens, its credential, and the power
 * target its chassis control acts on. Read from the lab config or the `bmc serve` flags,
 * validated against schemas/bmc.schema.json; the password is resolved and registered as a secret
 * at once, so it can never reach a log or a report.
 */
import { readFileSync } from 'node:fs';
import { validate, ValidationError } from '../core/schema.ts';
import { registerSecret } from '../core/secrets.ts';

/** The machine a BMC powers: a stand-in process (tests) or a libvirt domain (the lab's VM). */
export type PowerTargetSpec =
  | { kind: 'process'; command: string }
  | { kind: 'libvirt'; domain: string; uri?: string };

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

/** Validates a BMC config and resolves its password. Errors name the field. */
export function parseBmcConfig(input: unknown, source = 'BMC config'): BmcConfig {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    checkCredentialChoice(input as Record<string, unknown>, source);
  }
  const raw = validate<BmcConfigInput>('bmc', input, source);
  let password: string;
  if (raw.password !== undefined) password = raw.password;
  else if (raw.passwordFile !== undefined) {
    try {
      password = readFileSync(raw.passwordFile, 'utf8').trim();
    } catch (error) {
      throw new ValidationError(source, [`passwordFile: cannot read ${raw.passwordFile}: ${(error as Error).message}`]);
    }
  } else {
    const value = process.env[raw.passwordEnv!];
    if (!value) throw new ValidationError(source, [`passwordEnv: environment variable ${raw.passwordEnv} is not set`]);
    password = value;
  }
  // IPMI 2.0 passwords are at most 20 bytes; ipmi_sim's config syntax cannot quote a quote.
  if (password.length < 6 || password.length > 20 || /["\s\\]/.test(password)) {
    throw new ValidationError(source, ['password: must be 6-20 characters without spaces, quotes or backslashes']);
  }
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

/** The public part of a config. */
export function endpointOf(config: BmcConfig): BmcEndpoint {
  return { name: config.name, address: config.address, port: config.port, username: config.username };
}
