/**
 * Numeric command-line flags, parsed strictly: decimal digits only, within a range. `Number()`
 * alone reads '' as 0 and '0x1F' as 31, and a seed of 2^32+5 would silently act as 5.
 */
import { pathProblem } from '../core/host-files.ts';
import { CliError, ExitCode } from './exit-codes.ts';

export interface DecimalRange {
  min: number;
  max: number;
  /** What the value is, for messages: `a seed`, `a UDP port number`. */
  what: string;
}

/** A commander parser for `--<name> <n>`: a decimal integer in [min, max], else a usage error (exit 2). */
export function decimalFlag(name: string, range: DecimalRange): (value: string) => number {
  return (value: string) => {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    const rule = `${range.what}: a decimal integer from ${range.min} to ${range.max}`;
    if (!/^[0-9]{1,16}$/.test(value)) throw new CliError(`--${name}: ${shown} is not ${rule}`, ExitCode.USAGE);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < range.min || n > range.max) throw new CliError(`--${name}: ${shown} is out of range; it must be ${rule}`, ExitCode.USAGE);
    return n;
  };
}

/**
 * A commander parser for a path flag (`--target <file>`, `--reports <dir>`): refused when empty
 * (a CI job whose variable was unset must not fall back to another target or run everything) or
 * when it holds characters a config file or a shell would read as syntax. Never quotes the value.
 */
export function pathFlag(name: string, what: string): (value: string) => string {
  return (value: string) => {
    if (value === '') throw new CliError(`--${name}: is empty; give ${what} (an unset CI variable?)`, ExitCode.USAGE);
    const problem = pathProblem(value);
    if (problem) throw new CliError(`--${name}: ${problem}`, ExitCode.USAGE);
    return value;
  };
}

/** The same check for a positional argument (`run <file>`, `report [run-dir]`). */
export function checkPathArgument(name: string, value: string, what: string): string {
  return pathFlag(name, what)(value);
}
