/**
 * SSH to the lab's nodes: plain OpenSSH with one reused connection per node (about 0.1 s a
 * command instead of 2-3 s for `vagrant ssh -c`), keepalives that end a session to a node that
 * lost power within ~15 s, and a timeout on every command.
 *
 * The harness logs in as root with the lab's own key (the box installs it for root at boot): no
 * sudo, PAM session and journal entries per command, which cost a 1-vCPU emulated guest ~2.5% of
 * its CPU during a run.
 *
 * Local security: every `bash -s` script (BMC password, corosync key, mail passwords) goes
 * through the ControlMaster socket, so the socket lives in the lab's own 0700 state directory,
 * never under a predictable name in world-writable /tmp (a local user who made that socket first
 * would have received the scripts). A unix socket path is limited to 104 bytes (BSD; 108 on
 * Linux), with room for the temporary name ssh binds first; when the lab directory is too deep
 * for that, the socket goes in a private 0700 runtime directory ($XDG_RUNTIME_DIR, /run/user/<uid>,
 * /run for root, else the system temp dir), checked to be ours before use. Host keys are pinned:
 * the first contact records each node's key in the lab's own known_hosts (under the node's name,
 * so a new DHCP address does not matter), and every later connection must present the same key.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathProblem, writePrivateFile } from '../core/host-files.ts';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { ensureStateDir } from '../core/paths.ts';
import { ValidationError } from '../core/schema.ts';
import { run, streamLines, type ExecOptions, type ExecResult, type StreamOptions } from '../core/exec.ts';

export interface SshHost {
  name: string;
  hostName: string;
  port: number;
  user: string;
  /** This host's own key (an existing cluster's node); the lab's key otherwise. */
  keyFile?: string;
}

/** The longest unix socket path every platform takes (sun_path: 104 bytes on BSD, 108 on Linux), NUL included. */
export const SOCKET_PATH_LIMIT = 104;
/** ssh's %C token: a SHA-1 hex digest of the connection (40 characters). */
const TOKEN_LENGTH = 40;
/** ssh binds `<ControlPath>.<16 random characters>` first, then renames it. */
const TEMP_SUFFIX = 17;

/** Where a lab's SSH state lives. */
export interface SshFiles {
  /** The pinned host keys of the lab's nodes. */
  knownHosts: string;
  /** The directory holding the control sockets (0700, ours). */
  controlDir: string;
  /** ControlPath, with ssh's %C token. */
  controlPath: string;
  /** True when the lab directory was too deep and a private runtime directory is used instead. */
  fallback: boolean;
}

/** The bytes a control socket path takes when ssh binds it (the %C token expanded, its temporary suffix and the NUL). */
export function socketPathBytes(controlPath: string): number {
  return Buffer.byteLength(controlPath.replace('%C', 'x'.repeat(TOKEN_LENGTH))) + TEMP_SUFFIX + 1;
}

/** The private runtime directory for sockets of labs whose directory is too deep. */
export function defaultRuntimeRoot(): string {
  const uid = process.getuid?.() ?? 0;
  const candidates = [process.env.XDG_RUNTIME_DIR, `/run/user/${uid}`, uid === 0 ? '/run' : undefined].filter((d): d is string => Boolean(d));
  return candidates.find((d) => existsSync(d)) ?? tmpdir();
}

function labHash(labDir: string): string {
  return createHash('sha256').update(labDir).digest('hex').slice(0, 8);
}

/** Where the lab in `labDir` keeps its known_hosts and control sockets. Pure but for the default runtime root. */
export function sshFiles(labDir: string, runtimeRoot: string = defaultRuntimeRoot()): SshFiles {
  const knownHosts = join(labDir, 'known_hosts');
  const direct = join(labDir, 'cm-%C');
  if (socketPathBytes(direct) <= SOCKET_PATH_LIMIT) return { knownHosts, controlDir: labDir, controlPath: direct, fallback: false };
  const controlDir = join(runtimeRoot, `hachaos-${process.getuid?.() ?? 0}-${labHash(labDir)}`);
  const controlPath = join(controlDir, 'cm-%C');
  if (socketPathBytes(controlPath) > SOCKET_PATH_LIMIT) {
    throw new Error(`no place for the lab's SSH control socket: ${labDir} and ${runtimeRoot} are both too deep for a ${SOCKET_PATH_LIMIT}-byte socket path; set HA_CHAOS_STATE_DIR to a shorter directory`);
  }
  return { knownHosts, controlDir, controlPath, fallback: true };
}

/**
 * Makes the control socket directory (mode 0700) and checks that it is ours: a real directory
 * (not a symbolic link), owned by this user, reachable by nobody else. Anything else (someone
 * made it first) is refused rather than used.
 */
export function ensureControlDir(files: SshFiles): void {
  mkdirSync(files.controlDir, { recursive: true, mode: 0o700 });
  const stats = lstatSync(files.controlDir);
  const uid = process.getuid?.();
  if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) {
    throw new Error(`refusing ${files.controlDir} for SSH control sockets: it is ${stats.isSymbolicLink() ? 'a symbolic link' : !stats.isDirectory() ? 'not a directory' : `owned by uid ${stats.uid}`}, not a private directory of this user`);
  }
  if ((stats.mode & 0o077) !== 0) chmodSync(files.controlDir, 0o700);
}

/** The prefix of the control sockets labs used to put in /tmp (kept so `lab down` removes an old lab's). */
export function controlSocketPrefix(labId: string): string {
  return `hachaos-${createHash('sha256').update(labId).digest('hex').slice(0, 8)}-`;
}

/**
 * Removes the lab's control sockets that live outside its directory: an old lab's in /tmp
 * (only sockets owned by this user, never anything else matching the name) and the private
 * runtime directory of a lab whose directory was too deep. Returns what it removed.
 */
export function removeControlSockets(labDir: string, runtimeRoot: string = defaultRuntimeRoot()): string[] {
  const removed: string[] = [];
  const uid = process.getuid?.();
  const ours = (path: string, kind: 'socket' | 'directory') => {
    try {
      const stats = lstatSync(path);
      return (kind === 'socket' ? stats.isSocket() : stats.isDirectory()) && (uid === undefined || stats.uid === uid);
    } catch {
      return false;
    }
  };
  const prefix = controlSocketPrefix(labDir);
  for (const name of readdirSync('/tmp').filter((f) => f.startsWith(prefix))) {
    const path = join('/tmp', name);
    if (ours(path, 'socket')) {
      rmSync(path, { force: true });
      removed.push(path);
    }
  }
  const files = sshFiles(labDir, runtimeRoot);
  if (files.fallback && ours(files.controlDir, 'directory')) {
    rmSync(files.controlDir, { recursive: true, force: true });
    removed.push(files.controlDir);
  }
  return removed;
}

/** Parses `vagrant ssh-config` output into hosts. */
export function parseSshConfig(text: string): SshHost[] {
  const hosts: SshHost[] = [];
  let current: SshHost | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    if (key === 'Host') {
      current = { name: value, hostName: '', port: 22, user: 'vagrant' };
      hosts.push(current);
    } else if (current && key === 'HostName') current.hostName = value;
    else if (current && key === 'Port') current.port = Number(value);
    else if (current && key === 'User') current.user = value;
  }
  return hosts.filter((h) => h.hostName);
}

/** A host's name, address or user as ssh_config may carry it: one token, nothing ssh would expand or split. */
const SSH_TOKEN = /^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,252}$/;

/**
 * A value for ssh_config. A path must pass {@link pathProblem} (no quote, `%`, `#`, newline or
 * control character: nothing that ends the line or the token, or that ssh would expand), and is
 * quoted when it holds a space; every other value must be one plain token. Anything else is
 * refused here, whatever let it through before: this is the last line of defence between a
 * target file and a root `ProxyCommand`.
 */
export function configValue(value: string, field: string, kind: 'path' | 'token' | 'control-path' = 'path'): string {
  if (kind === 'token') {
    if (!SSH_TOKEN.test(value)) throw new ValidationError('ssh_config', [`${field}: is not a plain host name, address or user name (letters, digits and . _ : @ - only)`], [field]);
    return value;
  }
  // A control path ends in ssh's own %C token; the rest of it must be a safe path like any other.
  const problem = pathProblem(kind === 'control-path' ? value.replace(/%C$/, 'C') : value);
  if (problem) throw new ValidationError('ssh_config', [`${field}: ${problem}`], [field]);
  return value.includes(' ') ? `"${value}"` : value;
}

/**
 * Renders the lab's ssh_config. Host keys are pinned in the lab's known_hosts under each node's
 * name (accept-new: the first contact records the key, a changed key is refused); the system's
 * known_hosts files are not consulted. The control sockets go where {@link sshFiles} says.
 */
export function renderSshConfig(hosts: SshHost[], keyFile: string, labDir: string, files: SshFiles = sshFiles(labDir)): string {
  return hosts
    .map((h) => {
      if (!Number.isInteger(h.port) || h.port < 1 || h.port > 65535) throw new ValidationError('ssh_config', [`${h.name}: port: must be a whole number from 1 to 65535`]);
      return `Host ${configValue(h.name, 'node name', 'token')}
  HostName ${configValue(h.hostName, `${h.name}: address`, 'token')}
  Port ${h.port}
  User ${configValue(h.user, `${h.name}: user`, 'token')}
  IdentityFile ${configValue(h.keyFile ?? keyFile, `${h.name}: ssh key`)}
  IdentitiesOnly yes
  HostKeyAlias ${h.name}
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ${configValue(files.knownHosts, 'known_hosts')}
  GlobalKnownHostsFile /dev/null
  CheckHostIP no
  UpdateHostKeys no
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 3
  ServerAliveCountMax 5
  ControlMaster auto
  ControlPath ${configValue(files.controlPath, 'control socket path (HA_CHAOS_STATE_DIR)', 'control-path')}
  ControlPersist 120
`;
    })
    .join('\n');
}

/**
 * A root shell on each node: what every target gives a run. Over SSH for VMs and machines
 * ({@link SshRunner}), through `docker exec` for the container lane's nodes.
 */
export interface NodeShell {
  /** Runs `script` with bash as root on `node`; the script travels on stdin, never in argv. */
  root(node: string, script: string, options: Omit<ExecOptions, 'node' | 'input'> & { input?: never }): Promise<ExecResult>;
  /** Streams the stdout lines of `script` until `signal` fires; stdin stays open (its EOF tells the script the harness went away). */
  stream(node: string, script: string, onLine: (line: string) => void, options: Omit<StreamOptions, 'input' | 'node'>): Promise<{ reason: string; durationMs: number }>;
  /** Copies a local file to `remotePath` on `node`. */
  copy(node: string, localPath: string, remotePath: string, options: Omit<ExecOptions, 'node'>): Promise<ExecResult>;
  /** Closes a reused connection to `node` (before it is power-cycled); nothing where there is none. */
  close(node: string): Promise<void>;
}

/** Runs commands on the nodes over the lab's ssh_config. */
export class SshRunner implements NodeShell {
  constructor(
    readonly configFile: string,
    /** Hosts logged into as a user other than root: their scripts run under `sudo -n` (passwordless sudo, or a clear failure). */
    private readonly sudoHosts: readonly string[] = [],
  ) {}

  /** The remote command that runs a script from stdin as root on `node`. */
  private shell(node: string): string[] {
    return this.sudoHosts.includes(node) ? ['sudo', '-n', 'bash', '-s'] : ['bash', '-s'];
  }

  /**
   * Writes the ssh_config (mode 0600, never through a link) for the lab or cluster in `labDir`,
   * making its private control socket directory. Host keys are pinned in `labDir/known_hosts`;
   * `knownHosts` (a file the user names) only seeds it: ssh appends to the harness's own copy,
   * never to a file outside its state.
   */
  static write(configFile: string, hosts: SshHost[], keyFile: string, labDir: string, knownHosts?: string): SshRunner {
    const files = sshFiles(labDir);
    ensureStateDir(labDir);
    ensureControlDir(files);
    if (knownHosts && resolve(knownHosts) !== resolve(files.knownHosts)) {
      writePrivateFile(files.knownHosts, readInputFile(knownHosts, { maxBytes: INPUT_LIMITS.knownHosts, what: 'known_hosts file' }));
    }
    writePrivateFile(configFile, renderSshConfig(hosts, keyFile, labDir, files), 0o600);
    return new SshRunner(configFile, hosts.filter((h) => h.user !== 'root').map((h) => h.name));
  }

  /** Runs `script` with bash as root on `node`. The script travels on stdin, never in argv. */
  root(node: string, script: string, options: Omit<ExecOptions, 'node' | 'input'> & { input?: never }): Promise<ExecResult> {
    return run('ssh', ['-F', this.configFile, node, ...this.shell(node)], { ...options, node, input: script });
  }

  /**
   * Streams the stdout lines of `script` (bash, as root on `node`) until `signal` fires. The script
   * travels on stdin, which stays open: a script that ends with `read` notices the harness going
   * away (stop, or a crash that drops the connection) and can clean up after itself.
   */
  stream(node: string, script: string, onLine: (line: string) => void, options: Omit<StreamOptions, 'input' | 'node'>): Promise<{ reason: string; durationMs: number }> {
    return streamLines('ssh', ['-F', this.configFile, node, ...this.shell(node)], onLine, { ...options, node, input: script });
  }

  /** Copies a local file to `remotePath` on `node` (scp over the same connection and host keys). */
  copy(node: string, localPath: string, remotePath: string, options: Omit<ExecOptions, 'node'>): Promise<ExecResult> {
    return run('scp', ['-q', '-F', this.configFile, localPath, `${node}:${remotePath}`], { ...options, node });
  }

  /** Runs one command line on `node` (for a person's `lab ssh`). */
  exec(node: string, command: string[], options: Omit<ExecOptions, 'node'>): Promise<ExecResult> {
    return run('ssh', ['-F', this.configFile, node, ...command], { ...options, node });
  }

  /** Closes the reused connection to `node` (e.g. before it is power-cycled). */
  async close(node: string): Promise<void> {
    await run('ssh', ['-F', this.configFile, '-O', 'exit', node], { timeoutMs: 5000, reject: false });
  }
}
