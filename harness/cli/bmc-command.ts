/** `ha-chaos bmc serve|status|power|stop`: the virtual BMC by hand. */
import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { BMC_NAME, BMC_NAME_RULE, loadBmcConfig, parseBmcConfig, type BmcConfig } from '../bmc/bmc-config.ts';
import { IpmiError, type PowerAction } from '../bmc/ipmi-client.ts';
import { listBmcs, StartedVirtualBmc, stopAllBmcs, VirtualBmc } from '../bmc/virtual-bmc.ts';
import { rootLogger } from '../core/log.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import { decimalFlag } from './flags.ts';

interface ServeFlags {
  config?: string;
  port?: number;
  address: string;
  user: string;
  passwordFile?: string;
  passwordEnv?: string;
  process?: string;
  libvirtDomain?: string;
  libvirtUri: string;
}

/** A random password IPMI accepts (16 characters, no quotes or spaces). */
function generatePassword(): string {
  return randomBytes(12).toString('base64').replace(/[+/=]/g, 'x').slice(0, 16);
}

/**
 * A BMC name from the command line. It becomes a path (`<state>/bmc/<name>`), so anything else
 * (`../victim`) is a usage error before any file is touched.
 */
export function checkBmcName(command: string, name: string): string {
  if (!BMC_NAME.test(name)) {
    throw new CliError(`${command}: ${JSON.stringify(name.slice(0, 64))} is not a BMC name: a BMC name is ${BMC_NAME_RULE}`, ExitCode.USAGE);
  }
  return name;
}

function configFromFlags(name: string, flags: ServeFlags): BmcConfig {
  if (flags.config) {
    const config = loadBmcConfig(flags.config);
    if (config.name !== name) throw new CliError(`bmc serve ${name}: the config ${flags.config} is for BMC "${config.name}"`, ExitCode.USAGE);
    return config;
  }
  if (flags.port === undefined) throw new CliError('bmc serve: --port is required (or --config)', ExitCode.USAGE);
  if (Boolean(flags.process) === Boolean(flags.libvirtDomain)) {
    throw new CliError('bmc serve: give exactly one power target: --process "<command>" or --libvirt-domain <name>', ExitCode.USAGE);
  }
  const credential = flags.passwordFile
    ? { passwordFile: flags.passwordFile }
    : flags.passwordEnv
      ? { passwordEnv: flags.passwordEnv }
      : { password: generatePassword() };
  return parseBmcConfig(
    {
      name,
      address: flags.address,
      port: flags.port,
      username: flags.user,
      ...credential,
      target: flags.process ? { kind: 'process', command: flags.process } : { kind: 'libvirt', domain: flags.libvirtDomain, uri: flags.libvirtUri },
    },
    'bmc serve flags',
  );
}

const parsePort = decimalFlag('port', { min: 1024, max: 65535, what: 'a UDP port number' });

/** Builds the `bmc` command group. */
export function bmcCommand(): Command {
  const bmc = new Command('bmc').description('virtual BMCs (OpenIPMI ipmi_sim) that power-control a machine over IPMI 2.0 lanplus');

  bmc
    .command('serve')
    .description('start a virtual BMC for <name> in the background; it answers ipmitool and fence_ipmilan (cipher suite 3)')
    .argument('<name>', 'the node this BMC manages, e.g. node1')
    .option('--config <file>', 'a BMC config file (JSON, see schemas/bmc.schema.json) instead of the flags below')
    .option('--port <port>', 'UDP port to serve IPMI on', parsePort)
    .option('--address <ip>', 'address to listen on', '127.0.0.1')
    .option('--user <name>', 'IPMI user name', 'admin')
    .option('--password-file <file>', 'read the IPMI password from this file (default: generate one)')
    .option('--password-env <var>', 'read the IPMI password from this environment variable')
    .option('--process <command>', 'power target: a stand-in process, started on power on, killed on power off')
    .option('--libvirt-domain <domain>', 'power target: a libvirt domain')
    .option('--libvirt-uri <uri>', 'libvirt connection for --libvirt-domain', 'qemu:///system')
    .addHelpText(
      'after',
      '\nExample:\n  ha-chaos bmc serve node1 --port 9623 --process "sleep infinity"\n' +
        '  IPMI_PASSWORD=$(cat .state/bmc/node1/password) ipmitool -I lanplus -C 3 -H 127.0.0.1 -p 9623 -U admin -E chassis power status\n',
    )
    .action(async (name: string, flags: ServeFlags) => {
      const config = configFromFlags(checkBmcName('bmc serve', name), flags);
      const started = await new VirtualBmc(config, { log: rootLogger() }).start();
      const e = started.endpoint;
      process.stdout.write(
        `BMC ${e.name} serving IPMI 2.0 lanplus on ${e.address}:${e.port} (pid ${started.record.pid})\n` +
          `  user: ${e.username}; password file: ${started.passwordFile}\n` +
          `  try: IPMI_PASSWORD=$(cat ${started.passwordFile}) ipmitool -I lanplus -C 3 -H ${e.address} -p ${e.port} -U ${e.username} -E chassis power status\n` +
          `  stop: ha-chaos bmc stop ${e.name}\n`,
      );
    });

  bmc
    .command('status')
    .description('list virtual BMCs with their process and power state')
    .argument('[name]', 'one BMC (default: all)')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, flags: { json?: boolean }) => {
      const bmcs = name ? [StartedVirtualBmc.attach(checkBmcName('bmc status', name))] : listBmcs();
      const rows = [];
      for (const b of bmcs) {
        const running = b.isRunning();
        let power: string = 'unknown';
        if (running) {
          try {
            power = await b.client({ retries: 0 }).status();
          } catch (error) {
            power = `unknown (${error instanceof IpmiError ? error.kind : 'error'})`;
          }
        }
        rows.push({ ...b.endpoint, pid: b.record.pid, session: b.record.session, running, power, target: b.record.target });
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (rows.length === 0) process.stdout.write('no virtual BMCs\n');
      else
        for (const r of rows) {
          const target = r.target.kind === 'libvirt' ? `libvirt ${r.target.domain}` : r.target.kind === 'docker' ? `container ${r.target.container}` : `process "${r.target.command}"`;
          process.stdout.write(`${r.name}  ${r.address}:${r.port}  ${r.running ? `running (pid ${r.pid})` : 'NOT RUNNING'}  power ${r.power}  target ${target}\n`);
        }
    });

  bmc
    .command('power')
    .description('send a power command through IPMI, as a fence agent would')
    .argument('<name>', 'the BMC')
    .addArgument(new Command().createArgument('<action>', 'what to do').choices(['status', 'on', 'off', 'cycle', 'reset', 'soft']))
    .action(async (name: string, action: PowerAction | 'status') => {
      const client = StartedVirtualBmc.attach(checkBmcName('bmc power', name)).client({ log: rootLogger() });
      if (action === 'status') {
        process.stdout.write(`${name}: power ${await client.status()}\n`);
        return;
      }
      const result = await client.power(action);
      if (!result.acknowledged) {
        throw new CliError(`${name}: power ${action} failed; power state now: ${result.state}\n${result.error?.message ?? ''}`, ExitCode.INFRASTRUCTURE);
      }
      process.stdout.write(`${name}: power ${action} acknowledged; power now ${result.state}\n`);
    });

  bmc
    .command('stop')
    .description('stop a virtual BMC (or all, including leftovers of a crashed run)')
    .argument('[name]', 'the BMC')
    .addOption(new Option('--all', 'stop every BMC under the state directory'))
    .action(async (name: string | undefined, flags: { all?: boolean }) => {
      if (!name && !flags.all) throw new CliError('bmc stop: name a BMC, or pass --all', ExitCode.USAGE);
      if (name) checkBmcName('bmc stop', name);
      const stopped = name ? (await StartedVirtualBmc.attach(name).stop(), [name]) : await stopAllBmcs({ log: rootLogger() });
      process.stdout.write(stopped.length ? `stopped: ${stopped.join(', ')}\n` : 'nothing to stop\n');
    });

  return bmc;
}
