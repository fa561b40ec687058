/**
 * Axigen, installed from a Debian package the user supplies (`mail.package` in the lab config),
 * set up the way Axigen's Pacemaker guide runs it: the package on both nodes, start on boot off,
 * its working directory on the mail store, the domain and the test accounts made through Axigen's
 * own configuration interface (its CLI service), and the service run by Pacemaker as a systemd
 * resource in the store's group. The workload and every check are unchanged: SMTP in, IMAP and
 * POP3 out, through the virtual IP.
 *
 * Axigen cannot be downloaded here, and nothing here has run against real Axigen: what the
 * adapter assumes of it is in {@link AXIGEN}, in one place, and the README says what a user must
 * check. The install path is tested end to end with a stand-in package built by the test
 * (test/fixtures/axigen-standin/) that installs a service under these names and paths.
 */
import { createHmac } from 'node:crypto';
import type { LabSecrets } from '../lab/cluster-files.ts';
import { ops } from '../lab/cluster-files.ts';
import { MAIL_STORE } from '../storage/mail-store.ts';
import { operationsOf, type LabPlan } from '../lab/lab-config.ts';
import type { FileWriter, MailService } from './mail-service.ts';

/** What the adapter assumes of an Axigen install (Axigen 10 on Debian). */
export const AXIGEN = {
  /** The Debian package's name. */
  package: 'axigen',
  /** The server binary: `-A <password>` sets the admin password, `-v` prints the version. */
  binary: '/opt/axigen/bin/axigen',
  /** The systemd unit the package installs. */
  unit: 'axigen.service',
  /** The working directory: configuration (run/axigen.cfg), domains, queue, logs. */
  workDir: '/var/opt/axigen',
  /** The owner of the working directory. */
  user: 'axigen',
  /** The CLI service's listener (the package's default). */
  cli: { host: '127.0.0.1', port: 7000 },
  /** The log directory inside the working directory. */
  logDir: 'log',
} as const;

/** Where the package travels to on each node (the lab copies it before provisioning). */
export const AXIGEN_PACKAGE_ON_NODE = '/var/cache/ha-chaos/axigen.deb';
/** Where the working directory lives: on the mail store, so it moves with the service. */
export const AXIGEN_STORE_DIR = `${MAIL_STORE}/axigen`;
/** What the package installed as the working directory, kept for the store's first layout. */
export const AXIGEN_DIST_DIR = `${AXIGEN.workDir}.dist`;
/** The CLI conversation that makes the domain and the accounts (root only: it holds passwords). */
export const AXIGEN_SETUP_CLI = '/etc/ha-chaos/axigen-setup.cli';

/** The admin password of the lab's Axigen: derived from the lab's own secrets (so it needs no new one), registered by its caller. */
export function axigenAdminPassword(secrets: Pick<LabSecrets, 'corosyncKey'>): string {
  return createHmac('sha256', secrets.corosyncKey).update('axigen-admin').digest('base64url').slice(0, 24);
}

/** A CLI value, double-quoted (the CLI's quoting: backslash escapes a quote or a backslash). */
function cliValue(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The CLI conversation: log in as admin, make the domain with its location on the store, add
 * every test account, commit, quit. Each command is one line; the CLI answers each with `+OK` or
 * `-ERR`. Pure.
 */
export function renderAxigenSetupCli(plan: Pick<LabPlan, 'mailDomain'>, secrets: Pick<LabSecrets, 'accounts' | 'corosyncKey'>): string {
  const domain = plan.mailDomain;
  return [
    'USER admin',
    axigenAdminPassword(secrets),
    `CREATE Domain name ${domain} domainLocation ${cliValue(`${AXIGEN.workDir}/domains/${domain}`)} postmasterPassword ${cliValue(axigenAdminPassword(secrets))}`,
    `UPDATE Domain name ${domain}`,
    ...Object.entries(secrets.accounts).map(([user, password]) => `ADD Account name ${user} password ${cliValue(password)}`),
    'COMMIT',
    'QUIT',
    '',
  ].join('\n');
}

/** Each node's provisioning lines: the package installed (once per version), start on boot off, the working directory on the store. */
export function renderAxigenProvision(plan: LabPlan, secrets: LabSecrets, file: FileWriter): string[] {
  return [
    `test -f ${AXIGEN_PACKAGE_ON_NODE} || { echo "the Axigen package was not copied to this node" >&2; exit 1; }`,
    `want=$(dpkg-deb -f ${AXIGEN_PACKAGE_ON_NODE} Version)`,
    `[ "$(dpkg-query -W -f='\${Version}' ${AXIGEN.package} 2>/dev/null || true)" = "$want" ] || DEBIAN_FRONTEND=noninteractive dpkg -i ${AXIGEN_PACKAGE_ON_NODE} >&2`,
    // Pacemaker starts it, never the boot (Axigen's Pacemaker guide); a package that started it at install is stopped.
    `systemctl disable ${AXIGEN.unit} >/dev/null 2>&1 || true`,
    `systemctl stop ${AXIGEN.unit} >/dev/null 2>&1 || true`,
    `test -x ${AXIGEN.binary} || { echo "the package did not install ${AXIGEN.binary}" >&2; exit 1; }`,
    // The working directory moves onto the store; what the package put there is kept for the first layout.
    `if [ -d ${AXIGEN.workDir} ] && [ ! -L ${AXIGEN.workDir} ]; then rm -rf ${AXIGEN_DIST_DIR}; mv ${AXIGEN.workDir} ${AXIGEN_DIST_DIR}; fi`,
    `ln -sfn ${AXIGEN_STORE_DIR} ${AXIGEN.workDir}`,
    `install -d ${MAIL_STORE}`,
    file(AXIGEN_SETUP_CLI, renderAxigenSetupCli(plan, secrets), '0600'),
  ];
}

/**
 * The store's first layout (where it is mounted, once): the package's working directory copied
 * onto it, the admin password set, Axigen started once, the domain and accounts made through its
 * CLI (bounded: 120 s for the CLI to answer), and stopped again for Pacemaker to run.
 */
export function renderAxigenLayout(): string[] {
  const { host, port } = AXIGEN.cli;
  return [
    `install -d ${AXIGEN_STORE_DIR}`,
    `cp -a ${AXIGEN_DIST_DIR}/. ${AXIGEN_STORE_DIR}/`,
    `chown -R ${AXIGEN.user}:${AXIGEN.user} ${AXIGEN_STORE_DIR} 2>/dev/null || true`,
    `${AXIGEN.binary} -A "$(sed -n 2p ${AXIGEN_SETUP_CLI})" >&2`,
    `systemctl start ${AXIGEN.unit}`,
    `for i in $(seq 1 120); do (exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null && break; sleep 1; done`,
    `(exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null || { echo "Axigen's CLI did not answer on ${host}:${port} within 120 s" >&2; systemctl stop ${AXIGEN.unit}; exit 1; }`,
    // One line at a time, each answered before the next (the CLI reads a command after its prompt).
    `cli_out=$(exec 3<>/dev/tcp/${host}/${port}; while IFS= read -r line; do printf '%s\\r\\n' "$line" >&3; sleep 0.3; done < ${AXIGEN_SETUP_CLI}; timeout 10 cat <&3 || true)`,
    // The answers never hold the passwords the conversation sent: the CLI prints its results, not the commands.
    `if printf '%s' "$cli_out" | grep -- '-ERR' >/dev/null; then printf '%s\\n' "$cli_out" | grep -- '-ERR' >&2; systemctl stop ${AXIGEN.unit}; exit 1; fi`,
    `systemctl stop ${AXIGEN.unit}`,
  ];
}

/** Axigen's own log files (where the store is mounted: they live on it), the last 2000 lines of each, for the evidence. Pure. */
export function axigenLogScript(): string {
  const dir = `${AXIGEN.workDir}/${AXIGEN.logDir}`;
  return `mountpoint -q ${MAIL_STORE} || { echo "(the mail store is not mounted here: Axigen's logs are on the other node)"; exit 0; }; for f in ${dir}/*; do [ -f "$f" ] || continue; echo "@@ $f"; tail -n 2000 "$f"; done`;
}

/** Axigen's Pacemaker resource: the systemd unit, every operation with an explicit timeout. */
export function axigenResources(plan: LabPlan): { names: string[]; crm: string[] } {
  const { timeouts: t, intervals: i } = operationsOf(plan.config);
  return {
    names: ['axigen'],
    crm: [`primitive axigen systemd:${AXIGEN.unit.replace(/\.service$/, '')}${ops([['start', t.mailStart], ['stop', t.mailStop], ['monitor', t.mailMonitor, i.smtp]])}`],
  };
}

export const axigenService: MailService = {
  kind: 'axigen',
  describe: () => `Axigen (from the package in mail.package), run by Pacemaker as systemd:${AXIGEN.unit.replace(/\.service$/, '')}`,
  provision: renderAxigenProvision,
  layout: () => renderAxigenLayout(),
  resourceIds: ['axigen'],
  resources: axigenResources,
  // The adapter does not read Axigen's queue (its layout is Axigen's own): the read-back does not wait on it.
  queueScript: () => null,
  logScript: () => axigenLogScript(),
  reloadScript: () => `systemctl is-active -q ${AXIGEN.unit} && systemctl reload ${AXIGEN.unit} 2>/dev/null; true`,
  smtpProcess: { commandLine: AXIGEN.binary, name: 'axigen' },
};
