/**
 * The secret registry. Every secret the harness handles (BMC passwords, key material) is
 * registered here the moment it is read, and everything that leaves the process as text (log
 * lines, exec errors, run-directory files) passes through {@link redact}. A secret is therefore
 * masked even where the code that prints it never knew it was secret.
 */

const MASK = '***';
const secrets = new Set<string>();

/** Registers a secret so that {@link redact} masks it from now on. Short values are refused. */
export function registerSecret(value: string): string {
  if (value.length < 3) {
    // Masking one- or two-character strings would mangle every log line; refuse them instead.
    throw new Error('refusing a secret shorter than 3 characters: choose a longer password');
  }
  secrets.add(value);
  return value;
}

/** Replaces every registered secret (and any extra ones given) in `text` with `***`. */
export function redact(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets, ...extra]) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** True when `text` contains a registered secret: for assertions and last-line defences. */
export function containsSecret(text: string): boolean {
  for (const secret of secrets) if (text.includes(secret)) return true;
  return false;
}
