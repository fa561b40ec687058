/** Where the harness keeps things on the host. */
import { fileURLToPath } from 'node:url';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { ensurePrivateDir, pathProblem } from './host-files.ts';
import { ValidationError } from './schema.ts';

/** The repository root (where package.json lives). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Host-side state of started things (BMCs, labs): `$HA_CHAOS_STATE_DIR`, else `<repo>/.state`.
 * Everything the harness starts records itself here, so a later cleanup finds it after a crash.
 * The variable, when set, must be an absolute path of safe characters (it reaches ssh_config
 * and command lines): an empty or relative one would put root's state in the current directory.
 */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.HA_CHAOS_STATE_DIR;
  if (given === undefined) return resolve(join(REPO_ROOT, '.state'));
  const problem = given === '' ? 'is set but empty' : !isAbsolute(given) ? 'is not an absolute path' : pathProblem(given);
  if (problem) throw new ValidationError('HA_CHAOS_STATE_DIR', [`HA_CHAOS_STATE_DIR: ${problem}; give an absolute path of a directory of your own, or unset it for <repo>/.state`]);
  return resolve(given);
}

/**
 * Makes a directory of the harness's state (mode 0700) and checks it and every directory between
 * it and the state root: this user's, no symbolic link, writable by no one else. A directory
 * outside the state root (a test's own) is checked alone.
 */
export function ensureStateDir(dir: string, mode = 0o700): string {
  const root = stateRoot();
  const path = resolve(dir);
  return ensurePrivateDir(path, path === root || path.startsWith(`${root}${sep}`) ? root : path, mode);
}
