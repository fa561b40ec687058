/**
 * Bounded waits. Nothing in the harness sleeps and hopes: {@link waitFor} polls a probe until it
 * reports success, and on timeout throws {@link WaitTimeoutError}, which says what was awaited,
 * for how long, and what was last observed. Every delay is checked by {@link checkDelay}: one a
 * timer cannot honour (over 2^31-1 ms, NaN, Infinity) is refused with a TimerRangeError.
 */
import { checkDelay } from './delay.ts';

/** A wait that ran out of time. */
export class WaitTimeoutError extends Error {
  constructor(
    /** What was awaited, e.g. `BMC node1 answering on 127.0.0.1:9623`. */
    readonly what: string,
    readonly timeoutMs: number,
    readonly elapsedMs: number,
    /** A description of the last observed state, or the last probe error. */
    readonly lastObserved: string,
  ) {
    super(`timed out after ${elapsedMs} ms (limit ${timeoutMs} ms) waiting for ${what}; last observed: ${lastObserved}`);
    this.name = 'WaitTimeoutError';
  }
}

/** A wait cancelled through its AbortSignal. */
export class WaitCancelledError extends Error {
  constructor(readonly what: string) {
    super(`cancelled while waiting for ${what}`);
    this.name = 'WaitCancelledError';
  }
}

/** Thrown by a probe to end the wait at once (e.g. the awaited process died): rethrown unchanged. */
export class StopWaiting extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StopWaiting';
  }
}

/** The outcome of one probe: done (with a value), or not yet (with what was seen). */
export type ProbeResult<T> = { done: true; value: T } | { done: false; observed: string };

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between probes. Default 250 ms. */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves after `ms` (a negative delay is no delay), or rejects when `signal` aborts. A delay a
 * timer cannot honour (over 2^31-1 ms, NaN, Infinity) rejects with a TimerRangeError at once.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  let delay: number;
  try {
    delay = checkDelay(ms, 'sleep');
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delay);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `probe` until it returns `{done: true}`. A probe that throws counts as "not yet" and its
 * message becomes the last observation. The probe is never started after the deadline.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<ProbeResult<T>> | ProbeResult<T>,
  options: WaitOptions,
): Promise<T> {
  const interval = checkDelay(options.intervalMs ?? 250, `poll interval of the wait for ${what}`);
  checkDelay(options.timeoutMs, `timeout of the wait for ${what}`);
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let lastObserved: string;
  for (;;) {
    if (options.signal?.aborted) throw new WaitCancelledError(what);
    try {
      const result = await probe();
      if (result.done) return result.value;
      lastObserved = result.observed;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastObserved = `probe failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
    const now = performance.now();
    if (now + interval > deadline) {
      throw new WaitTimeoutError(what, options.timeoutMs, Math.round(now - started), lastObserved);
    }
    try {
      await sleep(interval, options.signal);
    } catch {
      throw new WaitCancelledError(what);
    }
  }
}

/** Shorthand for probes: done with a value. */
export const done = <T>(value: T): ProbeResult<T> => ({ done: true, value });
/** Shorthand for probes: not yet, having seen `observed`. */
export const notYet = (observed: string): ProbeResult<never> => ({ done: false, observed });
