/**
 * The host: what the lab needs on this machine, checked (`lab doctor`) and, on request, fixed
 * (`--fix`: install Debian packages, start virtlogd and libvirtd when no service manager does).
 *
 * KVM is detected by trying it (booting the box's kernel under `-accel kvm`), never by the mere
 * presence of /dev/kvm: on nested-PVM hosts /dev/kvm exists but cannot boot a stock kernel. When
 * KVM is present but unusable, libvirt would re-probe QEMU on every API call (~7.5 s each); the
 * fix is to run libvirtd in a private mount namespace where /dev/kvm is covered.
 */
import { existsSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type ExecOptions, type ExecResult } from '../core/exec.ts';
import type { Logger } from '../core/log.ts';
import { INPUT_LIMITS, readInputFile } from '../core/input-file.ts';
import { parseJson } from '../core/json-file.ts';
import { stateRoot, ensureStateDir } from '../core/paths.ts';
import { done, notYet, waitFor } from '../core/wait.ts';
import { writePrivateFile } from '../core/host-files.ts';

/** Debian packages the lab needs on the host, with what each is for. */
export const HOST_PACKAGES: Record<string, string> = {
  vagrant: 'brings the VMs up',
  'vagrant-libvirt': "Vagrant's libvirt provider",
  'libvirt-daemon-system': 'libvirtd and virtlogd',
  'libvirt-daemon-driver-qemu': "libvirt's QEMU driver",
  'libvirt-clients': 'virsh (the BMC power target)',
  'qemu-system-x86': 'the VMs',
  'qemu-utils': 'qemu-img (box build)',
  mmdebstrap: "builds the box and the container lane's node image from Debian packages",
  'docker.io': 'the container lane (dockerd and the docker CLI)',
  'e2fsprogs': 'mke2fs -d (box image)',
  'dnsmasq-base': "DHCP on the lab's management network",
  iptables: "libvirt's network rules",
  openipmi: 'ipmi_sim (the virtual BMCs)',
  ipmitool: 'IPMI client',
  snmpd: 'net-snmp agent (the virtual PDUs of the power-switch variant)',
  snmp: 'snmpget/snmpset (the PDU client, fence_apc_snmp from the host)',
  'fence-agents': 'fence_ipmilan (fencing tests from the host)',
  'openssh-client': 'ssh to the nodes',
  procps: 'process tools',
};

export type Accel = 'kvm' | 'tcg';

/** One fact about the host. */
export interface HostCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What a person (or --fix) does about it. */
  fix?: string;
}

export interface HostReport {
  checks: HostCheck[];
  ok: boolean;
}

export const LIBVIRT_URI = 'qemu:///system';

/** Runs virsh on the lab's libvirt connection (every caller: lab, box, faults). */
export function virsh(args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  return run('virsh', ['-c', LIBVIRT_URI, ...args], options);
}
const MIN_FREE_MEMORY_GIB = 2.5;
const MIN_FREE_DISK_GIB = 8;

/** Which of `packages` are not installed. */
export async function missingPackages(packages: string[], log: Logger): Promise<string[]> {
  const result = await run('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...packages], { timeoutMs: 30_000, reject: false, log });
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return packages.filter((p) => !installed.has(p));
}

function pidOf(name: string): Promise<ExecResult> {
  return run('pgrep', ['-x', name], { timeoutMs: 5000, reject: false });
}

/** True when systemd runs this machine (then services are its business). */
export function hasServiceManager(): boolean {
  return existsSync('/run/systemd/system');
}

function memAvailableGiB(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 / 1024 : 0;
}

function freeDiskGiB(path: string): number {
  const s = statfsSync(path);
  return (s.bavail * s.bsize) / 1024 ** 3;
}

/** The accelerator decided for this host (cached by `probeAccel`), if known. A damaged cache is no cache: the host is probed again. */
export function knownAccel(): Accel | undefined {
  const file = join(stateRoot(), 'accel.json');
  if (!existsSync(file)) return undefined;
  try {
    const accel = (parseJson(readInputFile(file, { maxBytes: INPUT_LIMITS.state, what: 'accelerator cache', kind: 'state' }), file).value as { accel?: unknown } | null)?.accel;
    return accel === 'kvm' || accel === 'tcg' ? accel : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tries KVM for real: boots `kernel` under `-accel kvm` and waits a few seconds for it to print
 * its banner on the serial console. Anything else (QEMU dies, hangs, no /dev/kvm) means TCG.
 */
export async function probeAccel(kernel: string, log: Logger): Promise<Accel> {
  let accel: Accel = 'tcg';
  let why = '/dev/kvm is absent';
  if (existsSync('/dev/kvm')) {
    const result = await run(
      'qemu-system-x86_64',
      ['-accel', 'kvm', '-cpu', 'host', '-m', '256', '-display', 'none', '-nodefaults', '-no-reboot', '-serial', 'stdio', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1'],
      { timeoutMs: 8000, reject: false, log, phase: 'kvm probe', node: 'host' },
    );
    if (/Linux version/.test(result.stdout)) {
      accel = 'kvm';
      why = 'a kernel booted under -accel kvm';
    } else {
      why = `KVM present but unusable: ${result.timedOut ? 'no kernel banner within 8 s' : (result.stderr.split('\n')[0] ?? result.reason)}`;
    }
  }
  ensureStateDir(stateRoot());
  writePrivateFile(join(stateRoot(), 'accel.json'), `${JSON.stringify({ accel, why, probedAt: new Date().toISOString() })}\n`);
  log.info(`virtualisation: ${accel.toUpperCase()} (${why})`);
  return accel;
}

/** Checks the host. Does not change anything. */
export async function checkHost(log: Logger): Promise<HostReport> {
  const checks: HostCheck[] = [];
  checks.push({ name: 'root', ok: process.getuid?.() === 0, detail: 'the lab needs root (libvirt system connection, mmdebstrap root mode)', fix: 'run as root' });

  const missing = await missingPackages(Object.keys(HOST_PACKAGES), log);
  checks.push({
    name: 'packages',
    ok: missing.length === 0,
    detail: missing.length === 0 ? 'all Debian packages installed' : `missing: ${missing.map((p) => `${p} (${HOST_PACKAGES[p]})`).join(', ')}`,
    fix: `apt-get install -y --no-install-recommends ${missing.join(' ')}`,
  });

  for (const daemon of ['virtlogd', 'libvirtd']) {
    const running = (await pidOf(daemon)).ok;
    checks.push({ name: daemon, ok: running, detail: running ? 'running' : 'not running', fix: 'ha-chaos lab doctor --fix starts it' });
  }

  const mem = memAvailableGiB();
  checks.push({ name: 'memory', ok: mem >= MIN_FREE_MEMORY_GIB, detail: `${mem.toFixed(1)} GiB available (need ${MIN_FREE_MEMORY_GIB} for two 1 GiB VMs under TCG)`, fix: 'free memory' });
  for (const path of ['/var/lib', stateRoot().replace(/\/[^/]*$/, '') || '/']) {
    const free = freeDiskGiB(existsSync(path) ? path : '/');
    checks.push({ name: `disk ${path}`, ok: free >= MIN_FREE_DISK_GIB, detail: `${free.toFixed(0)} GiB free (need ${MIN_FREE_DISK_GIB})`, fix: 'free disk space' });
  }
  const accel = knownAccel();
  checks.push({
    name: 'virtualisation',
    ok: true,
    detail: accel ? `${accel.toUpperCase()} (probed by booting the box kernel)` : existsSync('/dev/kvm') ? '/dev/kvm present; probed on the first lab up' : 'TCG (/dev/kvm absent)',
  });
  return { checks, ok: checks.every((c) => c.ok) };
}

/** Installs missing packages. */
export async function installPackages(missing: string[], log: Logger): Promise<void> {
  if (missing.length === 0) return;
  log.info(`installing ${missing.join(' ')}`);
  await run('apt-get', ['update', '-qq'], { timeoutMs: 10 * 60_000, log, phase: 'apt-get update', node: 'host' });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    timeoutMs: 20 * 60_000,
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    log,
    phase: 'apt-get install',
    node: 'host',
  });
}

/**
 * Whether libvirtd must run with /dev/kvm covered: KVM is present but not known to work
 * (`accel` is the probe's verdict, or undefined before the first probe).
 */
export function kvmNeedsCover(accel: Accel | undefined): boolean {
  return accel !== 'kvm' && existsSync('/dev/kvm');
}

/** Sets `namespaces = [ ]` in qemu.conf (needed when libvirtd runs with /dev/kvm covered). */
function configureQemuConf(log: Logger): void {
  const file = '/etc/libvirt/qemu.conf';
  const text = readFileSync(file, 'utf8');
  if (/^namespaces\s*=\s*\[\s*\]/m.test(text)) return;
  writeFileSync(file, `${text}\n# ha-chaos: libvirtd runs in a mount namespace with /dev/kvm covered\nnamespaces = [ ]\n`);
  log.info(`${file}: namespaces = [ ]`);
}

/**
 * Starts virtlogd and libvirtd when nothing else does. With `maskKvm`, libvirtd runs in a
 * private mount namespace where /dev/kvm is an unreadable file, so it stops re-probing QEMU.
 */
export async function startDaemons(options: { maskKvm: boolean; log: Logger }): Promise<void> {
  const { log } = options;
  if (hasServiceManager()) {
    await run('systemctl', ['start', 'virtlogd', 'libvirtd'], { timeoutMs: 60_000, log, phase: 'start libvirt', node: 'host' });
  } else {
    if (!(await pidOf('virtlogd')).ok) await run('virtlogd', ['-d'], { timeoutMs: 30_000, log, phase: 'start virtlogd', node: 'host' });
    const marker = join(stateRoot(), 'libvirtd-kvm-masked');
    const running = (await pidOf('libvirtd')).ok;
    const masked = existsSync(marker);
    if (running && masked !== options.maskKvm) {
      log.info(`restarting libvirtd (${options.maskKvm ? 'covering' : 'uncovering'} /dev/kvm)`);
      await run('pkill', ['-x', 'libvirtd'], { timeoutMs: 10_000, reject: false, log });
      await waitFor('libvirtd to exit', async () => ((await pidOf('libvirtd')).ok ? notYet('running') : done(true)), { timeoutMs: 15_000 });
    }
    if (!running || masked !== options.maskKvm) {
      if (options.maskKvm) {
        configureQemuConf(log);
        ensureStateDir(stateRoot());
        const cover = join(stateRoot(), 'kvm-cover');
        writePrivateFile(cover, '', 0o000);
        await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount --bind '${cover}' /dev/kvm && exec libvirtd -d`], {
          timeoutMs: 30_000,
          log,
          phase: 'start libvirtd (kvm covered)',
          node: 'host',
        });
        writePrivateFile(marker, 'libvirtd runs with /dev/kvm covered\n');
      } else {
        await run('libvirtd', ['-d'], { timeoutMs: 30_000, log, phase: 'start libvirtd', node: 'host' });
        rmSync(marker, { force: true });
      }
    }
  }
  await waitFor(
    `libvirtd answering on ${LIBVIRT_URI}`,
    async () => {
      const r = await run('virsh', ['-c', LIBVIRT_URI, 'version'], { timeoutMs: 20_000, reject: false });
      return r.ok ? done(true) : notYet(r.stderr.split('\n')[0] ?? r.reason);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  log.info('libvirtd and virtlogd are running');
}
