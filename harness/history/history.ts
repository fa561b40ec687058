/**
 * The run's history: one ordered log of client and fault operations on one clock, appended as
 * JSON lines as it happens, so a crashed run still leaves every operation it began.
 */
import { appendFileSync } from 'node:fs';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { ValidationError } from '../core/schema.ts';
import { redact } from '../core/secrets.ts';
import { pairOperations, type Operation, type OpType } from './operation.ts';

/** The harness's one clock: host wall time in epoch milliseconds, sub-millisecond, monotonic within a run. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** An invocation waiting for its one completion. */
export class PendingOperation {
  private completed = false;

  constructor(
    private readonly history: History,
    readonly invocation: Operation,
  ) {}

  /** It happened. */
  ok(value?: unknown): Operation {
    return this.complete('ok', value);
  }
  /** It definitely did not happen. */
  fail(error: string, value?: unknown): Operation {
    return this.complete('fail', value, error);
  }
  /** Unknown whether it happened (timeout, connection lost). */
  info(error: string, value?: unknown): Operation {
    return this.complete('info', value, error);
  }

  get isCompleted(): boolean {
    return this.completed;
  }

  private complete(type: Exclude<OpType, 'invoke'>, value?: unknown, error?: string): Operation {
    if (this.completed) {
      throw new Error(`${this.invocation.process} ${this.invocation.f} (history line ${this.invocation.index}) was already completed`);
    }
    this.completed = true;
    return this.history.append({ process: this.invocation.process, type, f: this.invocation.f, value, error });
  }
}

/** An append-only history, optionally mirrored line by line to a JSONL file. */
export class History {
  private readonly ops: Operation[] = [];
  private readonly inFlight = new Set<string>();

  constructor(private readonly file?: string) {}

  /** Records an invocation; the returned handle must be completed exactly once. */
  invoke(process: string, f: string, value?: unknown): PendingOperation {
    if (this.inFlight.has(process)) throw new Error(`${process} already has an operation in flight`);
    const op = this.append({ process, type: 'invoke', f, value });
    return new PendingOperation(this, op);
  }

  /** Runs `action` as one operation: ok with its result, or `classify`'s verdict on its error (default info). */
  async record<T>(
    process: string,
    f: string,
    value: unknown,
    action: () => Promise<T>,
    classify: (error: unknown) => 'fail' | 'info' = () => 'info',
  ): Promise<T> {
    const pending = this.invoke(process, f, value);
    try {
      const result = await action();
      pending.ok(result);
      return result;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (classify(error) === 'fail') pending.fail(message);
      else pending.info(message);
      throw error;
    }
  }

  /** @internal Used by {@link PendingOperation}. */
  append(partial: Omit<Operation, 'index' | 'time'>): Operation {
    const op: Operation = { index: this.ops.length, time: now(), ...partial };
    if (op.value === undefined) delete op.value;
    if (op.error === undefined) delete op.error;
    if (op.type === 'invoke') this.inFlight.add(op.process);
    else this.inFlight.delete(op.process);
    this.ops.push(op);
    if (this.file) appendFileSync(this.file, `${redact(JSON.stringify(op))}\n`);
    return op;
  }

  /** The operations so far (a copy). */
  operations(): Operation[] {
    return [...this.ops];
  }

  /** Reads a JSONL history back (a regular file within the size limit), checking each line's shape and the invoke/completion pairing. */
  static load(file: string): Operation[] {
    return parseHistory(readInputFile(file, { maxBytes: INPUT_LIMITS.history, what: 'history' }), file);
  }
}

const TYPES = new Set(['invoke', 'ok', 'fail', 'info']);

/**
 * Parses JSONL history text; errors are {@link ValidationError}s naming the source and the line
 * (never quoting it: a line may carry a secret the redactor does not know in this process).
 */
export function parseHistory(text: string, source = 'history'): Operation[] {
  const ops: Operation[] = [];
  const fail = (line: number, problem: string): never => {
    throw new ValidationError(source, [`line ${line}: ${problem}`]);
  };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let op: Operation;
    try {
      op = JSON.parse(line) as Operation;
    } catch {
      return fail(i + 1, 'not valid JSON');
    }
    if (typeof op !== 'object' || op === null || !Number.isFinite(op.time) || typeof op.process !== 'string' || typeof op.f !== 'string' || !TYPES.has(op.type)) {
      fail(i + 1, 'an operation needs time (a finite number), process, f (strings) and type (invoke|ok|fail|info)');
    }
    if (op.error !== undefined && typeof op.error !== 'string') fail(i + 1, 'error: must be a string');
    ops.push({ ...op, index: ops.length });
  });
  try {
    pairOperations(ops);
  } catch (error) {
    throw new ValidationError(source, [(error as Error).message]);
  }
  return ops;
}
