/**
 * Logging. One logger tree per process: each line names the object it is about (`[bmc:node1]`),
 * goes to every sink (the run log file gets everything, the console gets info and up unless debug
 * is on), and is redacted of every registered secret on the way out.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { redact } from './secrets.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where formatted log lines go. */
export interface LogSink {
  write(line: string, level: Level): void;
}

/** Extra structured fields printed as `key=value` after the message. */
export type Fields = Record<string, string | number | boolean | undefined>;

function formatFields(fields?: Fields): string {
  if (!fields) return '';
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** A scoped logger. Cheap to create; `child` narrows the scope. */
export class Logger {
  constructor(
    readonly scope: string,
    private readonly sinks: LogSink[],
  ) {}

  /** A logger for a narrower subject, e.g. `log.child('node1')` -> `[lab:node1]`. */
  child(scope: string): Logger {
    return new Logger(this.scope ? `${this.scope}:${scope}` : scope, this.sinks);
  }

  /** A logger that also writes to `sink` (e.g. a run's log file). */
  withSink(sink: LogSink): Logger {
    return new Logger(this.scope, [...this.sinks, sink]);
  }

  debug(message: string, fields?: Fields): void {
    this.emit('debug', message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.emit('info', message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.emit('warn', message, fields);
  }
  error(message: string, fields?: Fields): void {
    this.emit('error', message, fields);
  }

  private emit(level: Level, message: string, fields?: Fields): void {
    const line = redact(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${this.scope}] ${message}${formatFields(fields)}`,
    );
    for (const sink of this.sinks) sink.write(line, level);
  }
}

/**
 * A sink that appends every line to a file, synchronously, so a crash loses nothing. The
 * directory is made on the first write, not before: creating a logger changes nothing on disk.
 * Logging never breaks the work: a line that cannot be written is dropped.
 */
export function fileSink(path: string): LogSink {
  return {
    write(line) {
      try {
        appendFileSync(path, `${line}\n`);
      } catch {
        try {
          mkdirSync(dirname(path), { recursive: true });
          appendFileSync(path, `${line}\n`);
        } catch {
          // Nowhere to write (e.g. a cleanup removed the directory's parent): drop the line.
        }
      }
    },
  };
}

/** A sink that prints to stderr from `minLevel` up. */
export function consoleSink(minLevel: Level = 'info'): LogSink {
  return {
    write(line, level) {
      if (rank[level] >= rank[minLevel]) process.stderr.write(`${line}\n`);
    },
  };
}

/** A sink that keeps lines in memory: for tests. */
export function memorySink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line) => void lines.push(line) };
}

/** True when console debug output was asked for (`--debug` sets HA_CHAOS_DEBUG=1). */
export function debugEnabled(): boolean {
  return process.env.HA_CHAOS_DEBUG === '1';
}

/** The process's root logger: console only, debug when HA_CHAOS_DEBUG=1. */
export function rootLogger(scope = 'ha-chaos'): Logger {
  return new Logger(scope, [consoleSink(debugEnabled() ? 'debug' : 'info')]);
}

/** A logger that discards everything (for library calls that were given none). */
export const silentLogger = new Logger('', []);
