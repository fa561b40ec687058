/**
 * The CLI's last line of defence for secrets: once installed, everything written to stdout and
 * stderr (command output, commander's messages, error messages) passes through the redactor, so
 * a registered secret cannot reach the terminal or a CI log even from code that never knew it
 * printed one.
 */
import { redact } from '../core/secrets.ts';

let installed = false;

/** Makes `stream.write` redact what it is given (strings and UTF-8 buffers). */
export function redactWrites(stream: Pick<NodeJS.WritableStream, 'write'>): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(redact(chunk), ...rest);
    if (chunk instanceof Uint8Array) return write(redact(Buffer.from(chunk).toString('utf8')), ...rest);
    return write(chunk, ...rest);
  }) as NodeJS.WritableStream['write'];
}

/** Routes this process's stdout and stderr through the redactor. Idempotent. */
export function redactProcessOutput(): void {
  if (installed) return;
  installed = true;
  redactWrites(process.stdout);
  redactWrites(process.stderr);
}
