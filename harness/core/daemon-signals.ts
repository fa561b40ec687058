/**
 * The signals a power device's daemon gets (the virtual BMC's ipmi_sim, the virtual PDU's snmpd):
 * its "dead", "hung" and "stopped" states, each waited for until the kernel says it holds, and
 * the UDP port check before one starts. Callers check first that `pid` is their daemon.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isAlive } from './exec.ts';
import { done, notYet, waitFor } from './wait.ts';

/** The one-letter state of a process (R, S, T...), from /proc; undefined when it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** "Dead": SIGKILL (after SIGCONT, so a hung one dies too), waited for (5 s). `what` names it in the wait. */
export async function killDaemon(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGCONT');
  process.kill(pid, 'SIGKILL');
  await waitFor(`${what} (pid ${pid}) to die`, () => (isAlive(pid) ? notYet('still alive') : done(true)), { timeoutMs: 5000, intervalMs: 20 });
}

/** "Hung": SIGSTOP, in place once the kernel reports the process stopped (2 s). */
export async function hangDaemon(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  await waitFor(`${what} to stop`, () => (processState(pid) === 'T' ? done(true) : notYet(processState(pid) ?? 'gone')), { timeoutMs: 2000, intervalMs: 10 });
}

/** Heals "hung": SIGCONT, until the process runs again (2 s). */
export async function resumeDaemon(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGCONT');
  await waitFor(`${what} to run again`, () => (processState(pid) !== 'T' ? done(true) : notYet('stopped')), { timeoutMs: 2000, intervalMs: 10 });
}

/** A clean stop: SIGCONT, SIGTERM, and SIGKILL if it is still there after `graceMs`. */
export async function stopDaemon(pid: number, what: string, graceMs = 3000): Promise<void> {
  process.kill(pid, 'SIGCONT');
  process.kill(pid, 'SIGTERM');
  const gone = await waitFor(`${what} to exit`, () => (isAlive(pid) ? notYet('alive') : done(true)), { timeoutMs: graceMs, intervalMs: 20 }).catch(() => false);
  if (!gone && isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Fails with a clear message when another process already holds the UDP port. */
export async function assertUdpPortFree(address: string, port: number, owner: string): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve());
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' ? `${owner}: UDP port ${address}:${port} is already in use by another process; choose another port` : `${owner}: cannot listen on ${address}:${port}: ${(error as Error).message}`, { cause: error });
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve())).catch(() => undefined);
  }
}
