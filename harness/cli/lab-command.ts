/** `ha-chaos lab doctor|up|status|ssh|down`: the two-node cluster lab. */
import { storeOf } from '../storage/storage.ts';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import { rootLogger } from '../core/log.ts';
import { checkHost, HOST_PACKAGES, installPackages, knownAccel, kvmNeedsCover, missingPackages, startDaemons } from '../lab/host.ts';
import { Lab, HostNotReadyError } from '../lab/lab.ts';
import { loadLabConfig, DEFAULT_LAB_CONFIG } from '../cluster/lab-config.ts';
import { wedges } from '../cluster/status.ts';
import { sleep } from '../core/wait.ts';
import { describeGuestLoad, GuestCpuWindow } from '../observe/guest-load.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { interruptSignal } from './interrupt.ts';

function labFrom(flags: { config?: string }): Lab {
  return new Lab(loadLabConfig(flags.config ?? DEFAULT_LAB_CONFIG), rootLogger());
}

export function labCommand(): Command {
  const lab = new Command('lab').description('the two-node lab: VMs (Vagrant + libvirt), DRBD, Corosync, Pacemaker, mail stack, virtual BMCs or PDUs');
  const configOption = ['--config <file>', `lab config (JSON, schemas/lab.schema.json; default ${DEFAULT_LAB_CONFIG.replace(/.*\/vagrant\//, 'vagrant/')})`] as const;

  lab
    .command('doctor')
    .description('check every host prerequisite; --fix installs packages and starts libvirtd/virtlogd')
    .option('--fix', 'install missing Debian packages and start the daemons')
    .action(async (flags: { fix?: boolean }) => {
      const log = rootLogger();
      if (flags.fix) {
        await installPackages(await missingPackages(Object.keys(HOST_PACKAGES), log), log);
        await startDaemons({ maskKvm: kvmNeedsCover(knownAccel()), log });
      }
      const report = await checkHost(log);
      for (const c of report.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}${c.ok || !c.fix ? '' : `\n     fix: ${c.fix}`}\n`);
      if (!report.ok) throw new CliError('the host is not ready (see above); ha-chaos lab doctor --fix repairs what it can', ExitCode.PREREQUISITE);
    });

  lab
    .command('up')
    .description('bring the lab up (idempotent; a stopped lab resumes) and wait until it is ready')
    .option(...configOption)
    .action(async (flags: { config?: string }) => {
      try {
        const started = await labFrom(flags).up({ signal: interruptSignal() });
        process.stdout.write(`lab ${started.plan.config.name} ready (${started.accel.toUpperCase()}): mail on ${started.plan.virtualIp} (SMTP 25, IMAP 143, POP3 110)\n`);
      } catch (error) {
        if (error instanceof HostNotReadyError) throw new CliError(error.message, ExitCode.PREREQUISITE);
        throw error;
      }
    });

  lab
    .command('stop')
    .description('stop the lab with its state: both VMs paused together and saved to disk, power devices stopped; the next `lab up` resumes it in seconds')
    .option(...configOption)
    .action(async (flags: { config?: string }) => {
      const lab = labFrom(flags);
      const saved = await lab.stop();
      process.stdout.write(`lab ${lab.config.name} stopped with its state (${saved.join(', ')}): \`ha-chaos lab up\` resumes it, \`ha-chaos lab down\` removes it\n`);
    });

  lab
    .command('status')
    .description('facts read from the cluster: nodes, resources, the store, virtual IP, power devices, SMTP/IMAP')
    .option(...configOption)
    .option('--json', 'machine-readable output')
    .action(async (flags: { config?: string; json?: boolean }) => {
      const l = labFrom(flags);
      const started = await l.attach();
      const status = await started.status();
      const unmet = started.unmet(status);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...status, ready: unmet.length === 0, unmet, wedges: status.pacemaker ? wedges(status.pacemaker) : [] }, null, 2)}\n`);
        return;
      }
      const pm = status.pacemaker;
      const out = [`lab ${status.lab} (${status.accel.toUpperCase()}), virtual IP ${status.virtualIp} on ${status.vipHolders.join(', ') || 'no node'}`];
      if (status.architecture) out.push(`  storage: ${status.architecture.storage}; power: ${Object.entries(status.architecture.power).map(([n, d]) => `${n} ${d}`).join('; ')}`);
      for (const n of l.plan.nodes) {
        const node = pm?.nodes.find((x) => x.name === n.name);
        const store = storeOf(l.plan).describeNode(status, n.name);
        out.push(`  ${n.name}: pacemaker ${node ? (node.online ? 'online' : 'OFFLINE') : 'unknown'}, ${store}, power ${status.power[n.name] ?? 'unknown'}`);
      }
      for (const r of pm?.resources ?? []) out.push(`  ${r.id} (${r.agent}): ${r.role}${r.failed ? ' FAILED' : ''} on ${r.nodes.join(', ') || '-'}`);
      out.push(`  SMTP: ${status.smtp.ok ? 'ok' : 'DOWN'} (${status.smtp.detail}); IMAP: ${status.imap.ok ? 'ok' : 'DOWN'} (${status.imap.detail})`);
      out.push(unmet.length ? `NOT READY: ${unmet.join('; ')}` : 'ready');
      // What will not resolve by itself, with the fix.
      for (const w of pm ? wedges(pm) : []) out.push(`  cannot resolve by itself: ${w.why}\n    fix: ${w.fix}`);
      process.stdout.write(`${out.join('\n')}\n`);
      if (unmet.length) process.exitCode = ExitCode.INFRASTRUCTURE;
    });

  lab
    .command('target-file')
    .description('write a target file that describes the running lab as if it were hardware (SSH addresses, BMC addresses, no libvirt): for certify --target')
    .option(...configOption)
    .action(async (flags: { config?: string }) => {
      const file = await labFrom(flags).writeTargetFile();
      process.stdout.write(`${file}\n`);
    });

  lab
    .command('ssh')
    .description('open a shell on a node, or run a command there: lab ssh node1 -- crm_mon -1')
    .argument('<node>', 'node1 or node2')
    .argument('[command...]', 'command to run')
    .option(...configOption)
    .action(async (node: string, command: string[], flags: { config?: string }) => {
      const l = labFrom(flags);
      if (!l.plan.nodes.some((n) => n.name === node)) throw new CliError(`lab ssh: no node ${node} (nodes: ${l.plan.nodes.map((n) => n.name).join(', ')})`, ExitCode.USAGE);
      await l.attach(); // fails clearly when the lab is not up
      const result = spawnSync('ssh', ['-F', join(l.dir, 'ssh_config'), ...(command.length ? [] : ['-t']), node, ...command], { stdio: 'inherit' });
      process.exitCode = result.status ?? 1;
    });

  lab
    .command('load')
    .description("where each guest's CPU goes over a window: busy share, load average, CPU by group (cluster, mail, harness, system, kernel) and the top commands")
    .option(...configOption)
    .option('--seconds <n>', 'window length', '60')
    .option('--json', 'machine-readable output')
    .action(async (flags: { config?: string; seconds: string; json?: boolean }) => {
      const seconds = Number(flags.seconds);
      if (!Number.isFinite(seconds) || seconds < 5 || seconds > 3600) throw new CliError(`--seconds: "${flags.seconds}" is not a number of seconds from 5 to 3600`, ExitCode.USAGE);
      const l = labFrom(flags);
      const started = await l.attach();
      const window = new GuestCpuWindow(started.ssh, l.plan.nodes.map((n) => n.name));
      await window.open();
      await sleep(seconds * 1000, interruptSignal());
      const loads = await window.close();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(loads, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${loads.map(describeGuestLoad).join('\n')}\n`);
    });

  lab
    .command('down')
    .description('remove every domain, network, volume, BMC and file the lab made (idempotent; also after a crash)')
    .option(...configOption)
    .action(async (flags: { config?: string }) => {
      const report = await labFrom(flags).down();
      process.stdout.write(
        `removed: ${report.domains.length} domains, ${report.networks.length} networks, ${report.volumes.length} volumes, ${report.bmcs.length} power devices (BMCs, PDUs)${report.stateDir ? ', the state directory' : ''}\n`,
      );
    });

  return lab;
}
