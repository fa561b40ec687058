/**
 * Progress for long work: logs the start, a heartbeat with the elapsed time every few seconds,
 * and the end with its duration, so a person watching a 2-minute step knows it is alive.
 */
import { checkDelay } from './delay.ts';
import type { Logger } from './log.ts';

/**
 * Runs `work`, reporting progress on `log` as `what`. Resolves or rejects as `work` does.
 * `detail` says what is still awaited, for each heartbeat line (e.g. the unmet readiness conditions).
 */
export async function withProgress<T>(log: Logger, what: string, work: () => Promise<T>, everyMs = 15_000, detail?: () => string | undefined): Promise<T> {
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0);
  log.info(`${what}...`);
  const timer = setInterval(() => {
    const now = detail?.();
    log.info(`${what}: still working (${seconds()} s)${now ? `: ${now}` : ''}`);
  }, Math.max(1, checkDelay(everyMs, `progress heartbeat of ${what}`)));
  try {
    const result = await work();
    log.info(`${what}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    log.error(`${what}: failed after ${seconds()} s`);
    throw error;
  } finally {
    clearInterval(timer);
  }
}
