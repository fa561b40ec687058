/**
 * Text read from files (a run's results, its manifest) on its way to a terminal or a CI log. A
 * field that holds an escape sequence could recolour, move or erase what is printed, and one that
 * holds a newline could print a line of its own ("PASS ...") that the harness never wrote: both
 * are shown as visible escapes instead.
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` with every control character (newlines, ESC, C1 controls, line separators) shown as `\uXXXX`. */
export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A copy of `value` with {@link oneLine} applied to every string in it, keys included. */
export function terminalSafe<T>(value: T): T {
  if (typeof value === 'string') return oneLine(value) as T;
  if (Array.isArray(value)) return value.map((v) => terminalSafe(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [oneLine(k), terminalSafe(v)])) as T;
  }
  return value;
}
