/**
 * The container lane's Docker daemon. Where no service manager runs (this kind of host: no systemd
 * as PID 1), the harness starts dockerd itself and records that it did (`<state>/docker/dockerd.json`),
 * so `ha-chaos lane down` (or a later cleanup) stops exactly the daemon it started, and never one
 * that something else runs.
 *
 * Started with `--iptables=false --ip-masq=false --bridge=none`: dockerd otherwise sets the host's
 * FORWARD policy to DROP and loads br_netfilter, which cuts the VM lab's bridged traffic when both
 * lanes share a host. The lane needs no NAT and no published port: the host reaches every container
 * on its bridges directly, and nothing in a container reaches beyond them.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, run, spawnDaemon, commandLine } from '../core/exec.ts';
import { stopDaemon } from '../core/daemon-signals.ts';
import type { Logger } from '../core/log.ts';
import { stateRoot, ensureStateDir } from '../core/paths.ts';
import { done, notYet, StopWaiting, waitFor } from '../core/wait.ts';
import { writePrivateFile } from '../core/host-files.ts';

export const DOCKER_SOCKET = '/var/run/docker.sock';
const DOCKERD_FLAGS = ['--iptables=false', '--ip-masq=false', '--bridge=none'];

/** What the harness records of a dockerd it started. */
export interface DockerdRecord {
  pid: number;
  startedAt: string;
  args: string[];
}

const recordFile = () => join(stateRoot(), 'docker', 'dockerd.json');

/** True when a Docker daemon answers on the socket (whoever runs it). */
export async function dockerAnswers(log?: Logger): Promise<{ ok: boolean; detail: string }> {
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000, reject: false, log, node: 'host', phase: 'docker' });
  return { ok: r.ok, detail: r.ok ? r.stdout.trim() : (r.stderr.trim().split('\n').at(-1) ?? r.reason) };
}

/** The record of the dockerd this harness started, if it still runs. */
export function ourDockerd(): DockerdRecord | undefined {
  if (!existsSync(recordFile())) return undefined;
  const record = JSON.parse(readFileSync(recordFile(), 'utf8')) as DockerdRecord;
  return isAlive(record.pid) && commandLine(record.pid)?.[0]?.endsWith('dockerd') ? record : undefined;
}

/**
 * Makes sure a Docker daemon answers: the one running already (left as it is), or one the harness
 * starts and records. Bounded: 60 s for the daemon to answer, naming its log on failure.
 */
export async function ensureDockerd(log: Logger): Promise<{ started: boolean; version: string }> {
  const now = await dockerAnswers(log);
  if (now.ok) return { started: false, version: now.detail };
  if (!existsSync('/usr/sbin/dockerd') && !existsSync('/usr/bin/dockerd')) {
    throw new Error('dockerd is not installed (fix: ha-chaos lab doctor --fix, or apt-get install docker.io)');
  }
  const dir = join(stateRoot(), 'docker');
  ensureStateDir(dir);
  const logFile = join(dir, 'dockerd.log');
  const args = [...DOCKERD_FLAGS, '--pidfile', join(dir, 'dockerd.pid')];
  log.info(`starting dockerd (no service manager here): dockerd ${args.join(' ')}; its log: ${logFile}`);
  const pid = spawnDaemon('dockerd', args, { logFile, node: 'host', log });
  writePrivateFile(recordFile(), `${JSON.stringify({ pid, startedAt: new Date().toISOString(), args } satisfies DockerdRecord, null, 2)}\n`);
  const version = await waitFor(
    'dockerd answering on /var/run/docker.sock',
    async () => {
      if (!isAlive(pid)) throw new StopWaiting(`dockerd exited at start; the end of ${logFile}:\n${readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n')}`);
      const r = await dockerAnswers();
      return r.ok ? done(r.detail) : notYet(r.detail);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  return { started: true, version };
}

/** Stops the dockerd this harness started (containers first stop with it); resolves whether it did. */
export async function stopOurDockerd(log: Logger): Promise<boolean> {
  const record = ourDockerd();
  if (!record) {
    rmSync(recordFile(), { force: true });
    return false;
  }
  log.info(`stopping the dockerd the harness started (pid ${record.pid})`);
  await stopDaemon(record.pid, 'dockerd', 20_000);
  rmSync(recordFile(), { force: true });
  return true;
}

/** Runs the docker CLI (through the one exec wrapper: counted, bounded, logged). */
export function docker(args: string[], options: { timeoutMs?: number; log?: Logger; reject?: boolean; phase?: string; node?: string } = {}) {
  return run('docker', args, { timeoutMs: options.timeoutMs ?? 60_000, log: options.log, reject: options.reject ?? true, phase: options.phase ?? 'docker', node: options.node ?? 'host' });
}
