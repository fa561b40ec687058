/**
 * Exit codes and signals, in words. A failure message says "killed by SIGKILL (137)" rather than
 * leaving a person to decode 137.
 */
import { constants } from 'node:os';

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, num]) => [num, name]),
);

const knownCodes: Record<number, string> = {
  0: 'succeeded',
  1: 'failed',
  2: 'misuse or invalid arguments',
  124: 'timed out (timeout command)',
  125: 'the timeout command itself failed',
  126: 'found but not executable',
  127: 'command not found',
  255: 'failed; for ssh: the connection failed',
};

/** Describes an exit code or signal in words, e.g. `killed by SIGKILL (exit code 137)`. */
export function describeExit(exitCode: number | undefined, signal?: string): string {
  if (signal) return `killed by ${signal}`;
  if (exitCode === undefined) return 'did not exit';
  if (exitCode in knownCodes) return `${knownCodes[exitCode]} (exit code ${exitCode})`;
  if (exitCode > 128 && exitCode < 160) {
    const name = signalNames.get(exitCode - 128);
    if (name) return `killed by ${name} (exit code ${exitCode})`;
  }
  return `exited with code ${exitCode}`;
}
