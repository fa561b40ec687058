/**
 * The secret registry. Every secret the harness handles (BMC passwords, key material) is
 * registered here the moment it is read, and everything that leaves the process as text (log
 * lines, exec errors, run-directory files, the CLI's own output) passes through {@link redact}.
 * A secret is therefore masked even where the code that prints it never knew it was secret, and
 * also in the escaped forms it takes on the way: JSON string escapes, URL (percent) encoding,
 * HTML/XML entities and shell single-quoting.
 */

import { ValidationError } from './schema.ts';

const MASK = '***';
const secrets = new Set<string>();
/** Every form of every secret, longest first (so a secret inside a longer one cannot break its mask). */
let forms: string[] = [];

/** Percent-encoding as encodeURIComponent does it, or strictly (RFC 3986: also !'()*), in upper or lower case. */
const percent = (value: string, lower: boolean, strict = false) => {
  let encoded = encodeURIComponent(value);
  if (strict) encoded = encoded.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return lower ? encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()) : encoded;
};

/** The forms a secret takes when it is escaped for JSON, a URL, HTML/XML or a shell. */
export function escapedForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const html = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  const shell = value.replace(/'/g, `'\\''`);
  const formUrl = percent(value, false).replace(/%20/g, '+');
  const urls = [percent(value, false), percent(value, true), percent(value, false, true), percent(value, true, true), formUrl];
  return [...new Set([value, json, JSON.stringify(json).slice(1, -1), ...urls, html, shell])];
}

function rebuild(): void {
  forms = [...new Set([...secrets].flatMap(escapedForms))].sort((a, b) => b.length - a.length);
}

/** Registers a secret so that {@link redact} masks it (and its escaped forms) from now on. Short values are refused. */
export function registerSecret(value: string): string {
  if (value.length < 3) {
    // Masking one- or two-character strings would mangle every log line; refuse them instead.
    throw new ValidationError('a secret', ['a password or passphrase is shorter than 3 characters: choose a longer one']);
  }
  if (!/[\p{L}\p{N}]/u.test(value)) {
    // Three spaces, or `","`: masking it would rewrite the layout of every JSON file and log line.
    throw new ValidationError('a secret', ['a password or passphrase holds no letter or digit (only spaces or punctuation): choose another']);
  }
  if (!secrets.has(value)) {
    secrets.add(value);
    rebuild();
  }
  return value;
}

function maskAll(text: string, values: readonly string[]): string {
  let out = text;
  for (const secret of values) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** Replaces every registered secret (and any extra ones given), in any of its escaped forms, in `text` with `***`. */
export function redact(text: string, extra: readonly string[] = []): string {
  const out = maskAll(text, forms);
  if (extra.length === 0) return out;
  return maskAll(out, [...new Set(extra.filter((e) => e.length > 0).flatMap(escapedForms))].sort((a, b) => b.length - a.length));
}

/** True when `text` contains a registered secret, in any escaped form: for assertions and last-line defences. */
export function containsSecret(text: string): boolean {
  return forms.some((form) => text.includes(form));
}
