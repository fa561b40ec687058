/** Quotes a value as one word for a POSIX shell: single quotes, each `'` closed, escaped and reopened. Pure. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
