/** Where the harness keeps things on the host. */
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

/** The repository root (where package.json lives). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Host-side state of started things (BMCs, labs): `$HA_CHAOS_STATE_DIR`, else `<repo>/.state`.
 * Everything the harness starts records itself here, so a later cleanup finds it after a crash.
 */
export function stateRoot(): string {
  return resolve(process.env.HA_CHAOS_STATE_DIR ?? join(REPO_ROOT, '.state'));
}
