/**
 * The CLI's exit codes. Documented in README.md; scripts and CI may rely on them.
 */
export const ExitCode = {
  /** Everything asked for was done; every verdict passed. */
  OK: 0,
  /** A run completed and a verdict failed or was unknown. */
  VERDICT_FAILED: 1,
  /** Bad usage or bad input: a wrong flag, an invalid config or scenario file. */
  USAGE: 2,
  /** A host prerequisite is missing (a package, a daemon, free memory). */
  PREREQUISITE: 3,
  /** The harness could not do its work: a command failed or a wait timed out. */
  INFRASTRUCTURE: 4,
  /** Interrupted (Ctrl-C); cleanup ran. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that knows which exit code it deserves. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
