/**
 * SSH to the lab's nodes: plain OpenSSH with one reused connection per node (about 0.1 s a
 * command instead of 2-3 s for `vagrant ssh -c`), keepalives that end a session to a node that
 * lost power within ~15 s, and a timeout on every command. Host keys are not pinned: they are
 * generated at each VM's first boot on an address only this lab uses.
 */
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { run, streamLines, type ExecOptions, type ExecResult, type StreamOptions } from '../core/exec.ts';

export interface SshHost {
  name: string;
  hostName: string;
  port: number;
  user: string;
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

/** Renders the lab's ssh_config. The control socket lives under /tmp (socket paths are short). */
/** The prefix of the lab's SSH control sockets (under /tmp: socket paths must be short). */
export function controlSocketPrefix(labId: string): string {
  return `hachaos-${createHash('sha256').update(labId).digest('hex').slice(0, 8)}-`;
}

export function renderSshConfig(hosts: SshHost[], keyFile: string, labId: string): string {
  const control = `/tmp/${controlSocketPrefix(labId)}%C`;
  return hosts
    .map(
      (h) => `Host ${h.name}
  HostName ${h.hostName}
  Port ${h.port}
  User ${h.user}
  IdentityFile ${keyFile}
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 10
  ServerAliveInterval 3
  ServerAliveCountMax 5
  ControlMaster auto
  ControlPath ${control}
  ControlPersist 120
`,
    )
    .join('\n');
}

/** Runs commands on the nodes over the lab's ssh_config. */
export class SshRunner {
  constructor(readonly configFile: string) {}

  static write(configFile: string, hosts: SshHost[], keyFile: string, labId: string): SshRunner {
    writeFileSync(configFile, renderSshConfig(hosts, keyFile, labId));
    return new SshRunner(configFile);
  }

  /** Runs `script` with bash as root on `node`. The script travels on stdin, never in argv. */
  root(node: string, script: string, options: Omit<ExecOptions, 'node' | 'input'> & { input?: never }): Promise<ExecResult> {
    return run('ssh', ['-F', this.configFile, node, 'sudo', 'bash', '-s'], { ...options, node, input: script });
  }

  /**
   * Streams the stdout lines of `script` (bash, as root on `node`) until `signal` fires. The script
   * travels on stdin, which stays open: a script that ends with `read` notices the harness going
   * away (stop, or a crash that drops the connection) and can clean up after itself.
   */
  stream(node: string, script: string, onLine: (line: string) => void, options: Omit<StreamOptions, 'input' | 'node'>): Promise<{ reason: string; durationMs: number }> {
    return streamLines('ssh', ['-F', this.configFile, node, 'sudo', 'bash', '-s'], onLine, { ...options, node, input: script });
  }

  /** Runs one command line as the login user (for a person's `lab ssh`). */
  exec(node: string, command: string[], options: Omit<ExecOptions, 'node'>): Promise<ExecResult> {
    return run('ssh', ['-F', this.configFile, node, ...command], { ...options, node });
  }

  /** Closes the reused connection to `node` (e.g. before it is power-cycled). */
  async close(node: string): Promise<void> {
    await run('ssh', ['-F', this.configFile, '-O', 'exit', node], { timeoutMs: 5000, reject: false });
  }
}
