/**
 * The lab's secrets file (`<lab dir>/secrets.json`, mode 0600), read as strictly as any input:
 * a damaged file is a ValidationError that names the file and the field and never quotes its
 * content (Node's JSON errors quote the input, which here is the BMC password and the corosync key).
 */
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { parseJson } from '../core/json-file.ts';
import { ValidationError } from '../core/schema.ts';
import { registerSecret } from '../core/secrets.ts';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { accountNames, type LabSecrets } from '../cluster/lab-config.ts';
import type { LabPlan } from '../cluster/lab-config.ts';
import { axigenAdminPassword } from '../mail/axigen.ts';
import { writePrivateFile } from '../core/host-files.ts';

/**
 * A lab's secrets (`<dir>/secrets.json`, mode 0600): made once, read after; every one registered
 * for redaction (Axigen's admin password, derived from them, too).
 */
export function labSecrets(dir: string, plan: LabPlan): LabSecrets {
  const file = join(dir, 'secrets.json');
  let secrets: LabSecrets;
  if (existsSync(file)) secrets = readLabSecrets(file);
  else {
    const pw = () => randomBytes(12).toString('base64').replace(/[+/=]/g, 'x').slice(0, 16);
    secrets = {
      bmcPassword: pw(),
      corosyncKey: randomBytes(256).toString('base64'),
      accounts: Object.fromEntries(accountNames(plan).map((u) => [u, pw()])),
    };
    writePrivateFile(file, JSON.stringify(secrets, null, 2), 0o600);
  }
  registerSecret(secrets.bmcPassword);
  registerSecret(secrets.corosyncKey);
  Object.values(secrets.accounts).forEach(registerSecret);
  if (plan.config.mail.package) registerSecret(axigenAdminPassword(secrets));
  return secrets;
}

/** Registers every string of at least 3 characters in `value` as a secret (so a refusal cannot print one). */
function maskStrings(value: unknown): void {
  if (typeof value === 'string') {
    if (value.length >= 3) registerSecret(value);
  } else if (value && typeof value === 'object') Object.values(value).forEach(maskStrings);
}

/** Reads and checks a lab's secrets file; every secret in it is registered for redaction before any check can fail. */
export function readLabSecrets(file: string): LabSecrets {
  const value = parseJson(readInputFile(file, { maxBytes: INPUT_LIMITS.state, what: "lab's secrets file", kind: 'state' }), file).value;
  maskStrings(value);
  const problems: string[] = [];
  const s = value as Partial<LabSecrets> | null;
  if (typeof s !== 'object' || s === null || Array.isArray(s)) problems.push('(top level): must be an object with bmcPassword, corosyncKey and accounts');
  else {
    if (typeof s.bmcPassword !== 'string' || s.bmcPassword.length < 3) problems.push('/bmcPassword: must be a string of at least 3 characters');
    if (typeof s.corosyncKey !== 'string' || s.corosyncKey.length < 3) problems.push('/corosyncKey: must be a string of at least 3 characters');
    if (typeof s.accounts !== 'object' || s.accounts === null || Array.isArray(s.accounts)) problems.push('/accounts: must be an object of account passwords');
    else for (const [user, pw] of Object.entries(s.accounts)) if (typeof pw !== 'string' || pw.length < 3) problems.push(`/accounts/${user.slice(0, 32)}: must be a string of at least 3 characters`);
  }
  if (problems.length) throw new ValidationError(file, [...problems, 'it is made by `ha-chaos lab up`: `ha-chaos lab down` removes a damaged lab, then `lab up` makes a new one']);
  return s as LabSecrets;
}
