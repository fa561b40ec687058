/**
 * Operations: the atoms of a run's history. A client request or a fault action is an `invoke`,
 * followed by exactly one completion: `ok` (it happened), `fail` (it definitely did not happen),
 * or `info` (unknown: it may or may not have happened, e.g. a timeout or a dropped connection).
 */

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** One line of the history. */
export interface Operation {
  /** Position in the history, from 0. */
  index: number;
  /** Host wall-clock time in epoch milliseconds (fractional): the run's one clock. */
  time: number;
  /** Who did it: a client id (`smtp-1`), `nemesis` for faults, `probe-imap` for probes. */
  process: string;
  type: OpType;
  /** What was done: `send`, `read`, `power-cut`, `heal`... */
  f: string;
  /** The operation's argument (invoke) or result (completion). */
  value?: unknown;
  /** For fail/info: why. */
  error?: string;
}

/** An invocation and its completion (absent if the history ended first: treat as info). */
export interface OperationPair {
  invoke: Operation;
  completion?: Operation;
}

/** The outcome of a pair: an unfinished invocation counts as unknown (`info`). */
export function outcome(pair: OperationPair): 'ok' | 'fail' | 'info' {
  return pair.completion ? (pair.completion.type as 'ok' | 'fail' | 'info') : 'info';
}

/**
 * Pairs each invocation with its completion, in invocation order. Throws on a malformed history:
 * a completion without an open invocation, or a second invocation by a process still in flight.
 */
export function pairOperations(ops: readonly Operation[]): OperationPair[] {
  const open = new Map<string, OperationPair>();
  const pairs: OperationPair[] = [];
  for (const op of ops) {
    if (op.type === 'invoke') {
      if (open.has(op.process)) {
        throw new Error(`history line ${op.index}: ${op.process} invoked ${op.f} while its previous operation is still open`);
      }
      const pair: OperationPair = { invoke: op };
      open.set(op.process, pair);
      pairs.push(pair);
    } else {
      const pair = open.get(op.process);
      if (!pair) throw new Error(`history line ${op.index}: ${op.type} for ${op.process} without an open invocation`);
      if (pair.invoke.f !== op.f) {
        throw new Error(`history line ${op.index}: ${op.process} completed ${op.f} but had invoked ${pair.invoke.f}`);
      }
      pair.completion = op;
      open.delete(op.process);
    }
  }
  return pairs;
}
