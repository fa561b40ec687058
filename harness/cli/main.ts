/**
 * The `ha-chaos` command line. Each command group lives in its own file; this one wires them,
 * maps errors to documented exit codes (see exit-codes.ts), and turns Ctrl-C into an orderly
 * cancellation.
 */
import { TargetRefusedError } from '../existing/existing-cluster.ts';
import { Command, CommanderError } from 'commander';
import { ValidationError } from '../core/schema.ts';
import { WaitTimeoutError } from '../core/wait.ts';
import { ExecError } from '../core/exec.ts';
import { IpmiError } from '../bmc/ipmi-client.ts';
import { bmcCommand } from './bmc-command.ts';
import { calibrateCommand } from './calibrate-command.ts';
import { labCommand } from './lab-command.ts';
import { laneCommand } from './lane-command.ts';
import { certifyCommand, replayCommand, reportCommand, runCommand } from './certify-command.ts';
import { mergeReportsCommand } from './merge-command.ts';
import { historyCommand, trendCommand } from './history-command.ts';
import { wasInterrupted } from './interrupt.ts';
import { redactProcessOutput } from './redacted-output.ts';
import { redact } from '../core/secrets.ts';
import { CliError, ExitCode } from './exit-codes.ts';

/** The program, without side effects: tests call it with their own argv. */
export function program(): Command {
  const cli = new Command('ha-chaos')
    .description('chaos and acceptance tests for two-node active/passive mail clusters (Pacemaker + Corosync + DRBD + IPMI fencing)')
    .option('--debug', 'print debug detail (every command run) on the console')
    .hook('preAction', (cmd) => {
      if (cmd.opts<{ debug?: boolean }>().debug) process.env.HA_CHAOS_DEBUG = '1';
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 a verdict failed or is unknown, 2 bad usage or input, 3 host prerequisite missing,\n' +
        '            4 infrastructure failure (a command or a wait failed), 130 interrupted.\n',
    )
    ;
  cli.addCommand(bmcCommand());
  cli.addCommand(labCommand());
  cli.addCommand(laneCommand());
  cli.addCommand(certifyCommand());
  cli.addCommand(runCommand());
  cli.addCommand(replayCommand());
  cli.addCommand(reportCommand());
  cli.addCommand(calibrateCommand());
  cli.addCommand(mergeReportsCommand());
  cli.addCommand(historyCommand());
  cli.addCommand(trendCommand());
  // Settings do not flow into commands built on their own: apply them to the whole tree.
  const apply = (cmd: Command) => {
    cmd.exitOverride().showHelpAfterError();
    cmd.commands.forEach(apply);
  };
  apply(cli);
  return cli;
}

/** Maps an error to its exit code. */
export function exitCodeFor(error: unknown): ExitCode {
  if (wasInterrupted()) return ExitCode.INTERRUPTED;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ValidationError) return ExitCode.USAGE;
  // A --target cluster the harness refuses to touch (another cluster, fencing off, not confirmed, pre-flight failed): nothing was injected.
  if (error instanceof TargetRefusedError) return ExitCode.USAGE;
  if (error instanceof ExecError && error.reason === 'command not found') return ExitCode.PREREQUISITE;
  if (error instanceof ExecError || error instanceof WaitTimeoutError || error instanceof IpmiError) return ExitCode.INFRASTRUCTURE;
  return ExitCode.INFRASTRUCTURE;
}

/** Runs the CLI and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  // Everything printed passes the redactor: messages quote input, and input may hold a secret.
  redactProcessOutput();
  try {
    await program().parseAsync(argv);
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; commander already printed its message.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    process.stderr.write(`ha-chaos: ${redact(error instanceof Error ? error.message : String(error))}\n`);
    return exitCodeFor(error);
  }
}
