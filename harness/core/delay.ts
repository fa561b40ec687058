/**
 * Limits of Node's timers. `setTimeout` and `setInterval` hold a signed 32-bit millisecond count:
 * a delay over 2^31-1 ms (about 24.8 days), NaN or Infinity is silently replaced by 1 ms, so a
 * sender told to wait 1e10 ms floods instead. Every timer in the harness (sleep, waitFor, exec
 * timeouts, progress heartbeats) checks its delay here first and refuses such a value with a
 * {@link TimerRangeError} that names what the timer was for. Values are refused, not clamped:
 * a wait of 1e308 s is a bug or bad input to be reported, not a wait of 24.8 days.
 */

/** The longest delay Node's timers honour: 2^31-1 ms (~24.8 days). */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** A timer delay Node cannot honour (not finite, negative where that is meaningless, or over {@link MAX_DELAY_MS}). */
export class TimerRangeError extends RangeError {
  constructor(
    /** What the timer was for, e.g. `sleep` or `timeout of ssh node1`. */
    readonly what: string,
    readonly value: number,
  ) {
    super(`${what}: ${String(value)} ms is not a usable delay (it must be a finite number of milliseconds from 0 to ${MAX_DELAY_MS}, about 24.8 days)`);
    this.name = 'TimerRangeError';
  }
}

/**
 * Returns `ms` when a timer can honour it; throws {@link TimerRangeError} otherwise. A negative
 * delay means "already due" and becomes 0 when `negative` is `'zero'` (the default), or is
 * refused with `'refuse'` (a timeout of -5 ms is a mistake, not "now").
 */
export function checkDelay(ms: number, what: string, negative: 'zero' | 'refuse' = 'zero'): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms > MAX_DELAY_MS) throw new TimerRangeError(what, ms);
  if (ms < 0) {
    if (negative === 'refuse') throw new TimerRangeError(what, ms);
    return 0;
  }
  return ms;
}
