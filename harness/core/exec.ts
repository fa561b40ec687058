/**
 * The one process-execution wrapper. Every external command the harness runs (ipmitool,
 * fence_ipmilan, vagrant, virsh, ssh) goes through {@link run}: it always has a timeout, can be
 * cancelled, masks secrets, and fails with one error type, {@link ExecError}, whose fields match
 * the result's: command, node, phase, exit code in words, signal, timedOut, duration, output.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { checkDelay, TimerRangeError } from './delay.ts';
import { describeExit } from './exit-words.ts';
import { redact } from './secrets.ts';
import { silentLogger, type Logger } from './log.ts';

/** How to run one command. `timeoutMs` is required: no call may wait forever. */
export interface ExecOptions {
  /** Hard limit; the process gets SIGTERM, then SIGKILL 2 s later. From 1 ms to 2^31-1 ms (a TimerRangeError otherwise). */
  timeoutMs: number;
  /** Cancels the command (SIGTERM, then SIGKILL). */
  signal?: AbortSignal;
  cwd?: string;
  /** Extra environment variables (the parent's environment is inherited). */
  env?: Record<string, string | undefined>;
  /** Text written to the command's stdin (e.g. fence agent arguments carrying a password). */
  input?: string;
  /** The cluster node this command concerns (for messages), e.g. `node1` or `host`. */
  node?: string;
  /** What the harness was doing, e.g. `bmc start` or `fence`. */
  phase?: string;
  /** Values to mask besides the registered secrets. */
  secrets?: readonly string[];
  /** When false, a failed command resolves with its result instead of throwing. Default true. */
  reject?: boolean;
  log?: Logger;
  /** Each line of stdout as it arrives (secrets masked), e.g. for a long command's progress line. */
  onLine?: (line: string) => void;
}

/** What happened to one command. Shared by success and failure. */
export interface ExecResult {
  /** The command line, secrets masked. */
  command: string;
  cwd: string;
  node?: string;
  phase?: string;
  durationMs: number;
  /** Undefined when the process did not exit by itself (killed, not found, timed out). */
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  cancelled: boolean;
  /** True when the command succeeded (exit code 0, not killed). */
  ok: boolean;
  /** The outcome in words: `succeeded (exit code 0)`, `command not found`, `timed out after 5000 ms`. */
  reason: string;
  stdout: string;
  stderr: string;
}

const TAIL_LINES = 15;

/** The last lines of some output, for error messages. */
export function tail(text: string, lines = TAIL_LINES): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** A failed command. Its message is: where, what, why, and the tail of its output. */
export class ExecError extends Error implements ExecResult {
  readonly command: string;
  readonly cwd: string;
  readonly node?: string;
  readonly phase?: string;
  readonly durationMs: number;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  readonly ok = false;
  readonly reason: string;
  readonly stdout: string;
  readonly stderr: string;

  constructor(result: ExecResult) {
    const where = [result.node, result.phase].filter(Boolean).join(' ');
    const output = tail(result.stderr) || tail(result.stdout);
    super(
      `${where ? `[${where}] ` : ''}${result.command}: ${result.reason} after ${result.durationMs} ms` +
        (output ? `\n${output}` : ''),
    );
    this.name = 'ExecError';
    this.command = result.command;
    this.cwd = result.cwd;
    this.node = result.node;
    this.phase = result.phase;
    this.durationMs = result.durationMs;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.timedOut = result.timedOut;
    this.cancelled = result.cancelled;
    this.reason = result.reason;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** execa reads a timeout of 0 as "none": every command needs a real one (1 ms to 2^31-1 ms). */
function checkTimeout(timeoutMs: number, command: string): void {
  checkDelay(timeoutMs, `timeout of ${command}`, 'refuse');
  if (timeoutMs < 1) throw new TimerRangeError(`timeout of ${command} (execa reads 0 as no timeout at all)`, timeoutMs);
}

/** How many times this process ran each program on the host (by its base name): evidence of what a run touched. */
const programRuns = new Map<string, number>();

/** A copy of the per-program run counts so far (see {@link programRuns}). */
export function programRunCounts(): Record<string, number> {
  return Object.fromEntries(programRuns);
}

function counted(file: string): void {
  const name = file.split('/').pop() ?? file;
  programRuns.set(name, (programRuns.get(name) ?? 0) + 1);
}

/** Runs `file` with `args`. Resolves with the result; throws {@link ExecError} on failure unless `reject: false`. */
export async function run(file: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  counted(file);
  const log = options.log ?? silentLogger;
  const mask = (text: string) => redact(text, options.secrets);
  const command = mask([file, ...args].map(quote).join(' '));
  checkTimeout(options.timeoutMs, command);
  const cwd = options.cwd ?? process.cwd();
  log.debug(`exec ${command}`, { node: options.node, phase: options.phase });

  const started = performance.now();
  const subprocess = execa(file, args, {
    cwd,
    env: options.env,
    input: options.input,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    forceKillAfterDelay: 2000,
    reject: false,
    stripFinalNewline: true,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
  });
  let pending = '';
  if (options.onLine) {
    const onLine = options.onLine;
    subprocess.stdout?.setEncoding('utf8');
    subprocess.stdout?.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line) onLine(mask(line));
      }
    });
  }
  const child = await subprocess;
  if (options.onLine && pending.trim()) options.onLine(mask(pending.trim()));
  const durationMs = Math.round(performance.now() - started);

  const notFound = (child as { code?: string }).code === 'ENOENT';
  const signal = child.signal ?? undefined;
  let reason: string;
  if (child.timedOut) reason = `timed out after ${options.timeoutMs} ms`;
  else if (child.isCanceled) reason = 'cancelled';
  else if (notFound) reason = 'command not found';
  else reason = describeExit(child.exitCode, signal);

  const result: ExecResult = {
    command,
    cwd,
    node: options.node,
    phase: options.phase,
    durationMs,
    exitCode: child.exitCode,
    signal,
    timedOut: Boolean(child.timedOut),
    cancelled: Boolean(child.isCanceled),
    ok: !child.failed,
    reason,
    stdout: mask(String(child.stdout ?? '')),
    stderr: mask(String(child.stderr ?? '')),
  };
  log.debug(`exec done ${command}: ${reason}`, { ms: durationMs });
  if (!result.ok && options.reject !== false) throw new ExecError(result);
  return result;
}

/** How to start a long-lived daemon. */
export interface DaemonOptions {
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  node?: string;
  log?: Logger;
}

/**
 * Starts a long-lived daemon in its own session, detached from this process (it survives a
 * harness crash; the caller records its pid so a later cleanup can find it). Returns its pid.
 */
export function spawnDaemon(file: string, args: readonly string[], options: DaemonOptions): number {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${file}: no pid (is it installed?)`);
    child.on('error', () => undefined); // reported by the caller's readiness wait
    child.unref();
    (options.log ?? silentLogger).debug(`daemon started ${[file, ...args].map(quote).join(' ')}`, { pid: child.pid, node: options.node });
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True when `pid` is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The command line of `pid`, or undefined when it is gone. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** How to run a command whose output is read line by line while it runs (a watcher's stream). */
export interface StreamOptions {
  /** Hard limit on the whole stream (a watcher outliving its run is a bug). */
  timeoutMs: number;
  /** Ends the stream: stdin is closed first (a well-behaved remote script exits on EOF), then SIGTERM. */
  signal: AbortSignal;
  /** Written to stdin, which then stays open until the stream is stopped. */
  input?: string;
  node?: string;
  phase?: string;
  log?: Logger;
}

/**
 * Runs `file`, handing each stdout line (secrets masked) to `onLine` as it arrives. Resolves
 * when the process ends, by itself or through `signal`, with how it ended; never throws for the
 * process's own failure (a stream that breaks is an observation, not an error).
 */
export async function streamLines(file: string, args: readonly string[], onLine: (line: string) => void, options: StreamOptions): Promise<{ reason: string; durationMs: number }> {
  checkTimeout(options.timeoutMs, [file, ...args].map(quote).join(' '));
  counted(file);
  const started = performance.now();
  const child = execa(file, args, {
    timeout: options.timeoutMs,
    forceKillAfterDelay: 2000,
    reject: false,
    buffer: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'ignore',
  });
  if (options.input !== undefined) child.stdin.write(options.input);
  const stop = () => {
    child.stdin.end();
    setTimeout(() => child.kill('SIGTERM'), 3000).unref();
  };
  if (options.signal.aborted) stop();
  else options.signal.addEventListener('abort', stop, { once: true });
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line) onLine(redact(line));
    }
  });
  const result = await child;
  options.signal.removeEventListener('abort', stop);
  if (pending) onLine(redact(pending));
  const reason = result.timedOut ? `timed out after ${options.timeoutMs} ms` : options.signal.aborted ? 'stopped' : describeExit(result.exitCode, result.signal ?? undefined);
  (options.log ?? silentLogger).debug(`stream ended ${file}: ${reason}`, { node: options.node, phase: options.phase });
  return { reason, durationMs: Math.round(performance.now() - started) };
}
