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
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LabSecrets } from '../cluster/lab-config.ts';
import { crmOps } from '../cluster/crm-ops.ts';
import { MAIL_STORE } from '../cluster/mail-store.ts';
import { operationsOf, type LabPlan } from '../cluster/lab-config.ts';
import type { FileWriter, MailService } from './mail-service.ts';

/** What the adapter assumes of an Axigen install (Axigen 10 on Debian). */
export const AXIGEN = {
  /** The Debian package's name. */
  package: 'axigen',
  /** The server binary: `-A <password>` sets the admin password, `-v` prints the version. */
  binary: '/opt/axigen/bin/axigen',
  /** The vendor's service: a SysV init script (/etc/init.d/axigen), which systemd wraps with RemainAfterExit=yes: disabled, never used. */
  vendorUnit: 'axigen.service',
  /** The unit the harness owns and Pacemaker runs: the server in the foreground, so its death is the unit's. */
  unit: 'axigen-ha.service',
  /** The working directory: configuration (run/axigen.cfg), domains, queue, logs. */
  workDir: '/var/opt/axigen',
  /** The owner of the working directory. */
  user: 'axigen',
  /** The CLI service's listener (the package's default). */
  cli: { host: '127.0.0.1', port: 7000 },
  /** The listeners the cluster needs on every address (the defaults are 127.0.0.1: nothing would answer on the virtual IP). */
  listeners: [
    { context: 'SMTP-INCOMING', prompt: '<server-smtpIncoming#>', port: 25 },
    { context: 'IMAP', prompt: '<server-imap#>', port: 143 },
    { context: 'POP3', prompt: '<server-pop3#>', port: 110 },
  ],
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

/** One step of a CLI conversation: the command, and the prompt of the context it must leave the CLI in (`<*>`: any, where Axigen's documentation does not name it). */
export interface CliStep {
  command: string;
  prompt: string;
  /** It holds a password: never shown, in a log or an error. */
  secret?: boolean;
}

/**
 * The CLI conversation that makes the domain, the accounts, the listeners and the primary domain,
 * as Axigen's CLI wants it (../shared/notes/axigen.md): CREATE Domain enters `<domain-create#>`
 * and needs its COMMIT before anything else; UPDATE Domain enters `<domain#>`, each ADD Account
 * enters `<domain-account#>` and needs its own COMMIT, one more COMMIT leaves the domain; the
 * SMTP receiving, IMAP and POP3 listeners move from 127.0.0.1 to every address (CONFIG SERVER,
 * CONFIG <service>, UPDATE Listener, SET address, COMMIT); the primary domain is the lab's, so
 * `user@domain` and a bare `user` resolve alike; SAVE CONFIG, or none of it survives a restart;
 * QUIT. Pure.
 */
export function axigenSetupSteps(plan: Pick<LabPlan, 'mailDomain'>, secrets: Pick<LabSecrets, 'accounts' | 'corosyncKey'>): CliStep[] {
  const domain = plan.mailDomain;
  const admin = axigenAdminPassword(secrets);
  return [
    { command: 'USER admin', prompt: '<password>' },
    { command: admin, prompt: '<#>', secret: true },
    { command: `CREATE Domain name ${domain} domainLocation ${cliValue(`${AXIGEN.workDir}/domains/${domain}`)} postmasterPassword ${cliValue(admin)}`, prompt: '<domain-create#>', secret: true },
    { command: 'COMMIT', prompt: '<#>' },
    { command: `UPDATE Domain name ${domain}`, prompt: '<domain#>' },
    ...Object.entries(secrets.accounts).flatMap(([user, password]): CliStep[] => [
      { command: `ADD Account name ${user} password ${cliValue(password)}`, prompt: '<domain-account#>', secret: true },
      { command: 'COMMIT', prompt: '<domain#>' },
    ]),
    { command: 'COMMIT', prompt: '<#>' },
    { command: 'CONFIG SERVER', prompt: '<server#>' },
    { command: `SET primaryDomain ${domain}`, prompt: '<server#>' },
    ...AXIGEN.listeners.flatMap((l): CliStep[] => [
      { command: `CONFIG ${l.context}`, prompt: l.prompt },
      { command: `UPDATE Listener address 127.0.0.1:${l.port}`, prompt: '<*>' },
      { command: `SET address 0.0.0.0:${l.port}`, prompt: '<*>' },
      { command: 'COMMIT', prompt: l.prompt },
      { command: 'COMMIT', prompt: '<server#>' },
    ]),
    { command: 'COMMIT', prompt: '<#>' },
    { command: 'SAVE CONFIG', prompt: '<#>' },
    { command: 'QUIT', prompt: '(connection closed)' },
  ];
}

/** The conversation file the node-side client reads (axigen-cli.py): `<prompt>\t<command>` a line, `!` before a secret command. Pure. */
export function renderCliConversation(steps: readonly CliStep[]): string {
  for (const s of steps) if (/[\r\n\t]/.test(s.command)) throw new Error('a CLI command holds a line break or a tab');
  return `${steps.map((s) => `${s.prompt}\t${s.secret ? '!' : ''}${s.command}`).join('\n')}\n`;
}

/** Where the node-side CLI client (axigen-cli.py) lives on each node. */
export const AXIGEN_CLI_CLIENT = '/etc/ha-chaos/axigen-cli.py';
/** The admin password on each node (root only), for `axigen -A`. */
export const AXIGEN_ADMIN_FILE = '/etc/ha-chaos/axigen-admin.pw';
/** The node-side CLI client's source, shipped beside this file. */
const CLI_CLIENT_SOURCE = fileURLToPath(new URL('./axigen-cli.py', import.meta.url));

/**
 * The unit the harness owns (AXIGEN.unit): Axigen's supervisor in the foreground, as Axigen's own
 * Docker images run it, so that the unit is active exactly while Axigen runs and Pacemaker's
 * `systemd:` monitor sees it die. No restart by systemd: Pacemaker decides. Pure.
 */
export function renderAxigenUnit(): string {
  return [
    '[Unit]',
    'Description=Axigen, run by Pacemaker (ha-chaos): the supervisor in the foreground',
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${AXIGEN.binary} --foreground`,
    'Restart=no',
    'KillMode=control-group',
    'TimeoutStopSec=60',
    '',
  ].join('\n');
}

/**
 * Each node's provisioning lines: the package installed (once per version); the vendor's SysV
 * service disabled and masked (its generated unit has RemainAfterExit=yes and would stay "active"
 * after Axigen died); the harness's own unit, refused if systemd reads RemainAfterExit=yes in it;
 * the working directory on the store; the CLI client and its conversation (root only).
 */
export function renderAxigenProvision(plan: LabPlan, secrets: LabSecrets, file: FileWriter): string[] {
  const vendor = AXIGEN.vendorUnit;
  return [
    `test -f ${AXIGEN_PACKAGE_ON_NODE} || { echo "the Axigen package was not copied to this node" >&2; exit 1; }`,
    `want=$(dpkg-deb -f ${AXIGEN_PACKAGE_ON_NODE} Version)`,
    `[ "$(dpkg-query -W -f='\${Version}' ${AXIGEN.package} 2>/dev/null || true)" = "$want" ] || DEBIAN_FRONTEND=noninteractive dpkg -i ${AXIGEN_PACKAGE_ON_NODE} >&2`,
    `test -x ${AXIGEN.binary} || { echo "the package did not install ${AXIGEN.binary}" >&2; exit 1; }`,
    // Pacemaker starts Axigen, never the boot (Axigen's Pacemaker guide), and never through the vendor's script.
    `systemctl stop ${vendor} >/dev/null 2>&1 || /etc/init.d/axigen stop >/dev/null 2>&1 || true`,
    `update-rc.d axigen disable >/dev/null 2>&1 || true`,
    `systemctl disable ${vendor} >/dev/null 2>&1 || true`,
    `systemctl mask ${vendor} >/dev/null 2>&1 || true`,
    file(`/etc/systemd/system/${AXIGEN.unit}`, renderAxigenUnit(), '0644'),
    'systemctl daemon-reload',
    `[ "$(systemctl show -p RemainAfterExit --value ${AXIGEN.unit})" = no ] || { echo "refusing ${AXIGEN.unit}: systemd reads RemainAfterExit=yes in it, so it would stay active after Axigen died and Pacemaker would never see it" >&2; exit 1; }`,
    `[ "$(systemctl show -p Type --value ${AXIGEN.unit})" = simple ] || { echo "refusing ${AXIGEN.unit}: it is not Type=simple" >&2; exit 1; }`,
    // The working directory moves onto the store; what the package put there is kept for the first layout.
    `if [ -d ${AXIGEN.workDir} ] && [ ! -L ${AXIGEN.workDir} ]; then rm -rf ${AXIGEN_DIST_DIR}; mv ${AXIGEN.workDir} ${AXIGEN_DIST_DIR}; fi`,
    `ln -sfn ${AXIGEN_STORE_DIR} ${AXIGEN.workDir}`,
    `install -d ${MAIL_STORE}`,
    file(AXIGEN_CLI_CLIENT, readFileSync(CLI_CLIENT_SOURCE, 'utf8'), '0700'),
    file(AXIGEN_SETUP_CLI, renderCliConversation(axigenSetupSteps(plan, secrets)), '0600'),
    file(AXIGEN_ADMIN_FILE, `${axigenAdminPassword(secrets)}\n`, '0600'),
  ];
}

/**
 * The store's first layout (where it is mounted, once): the package's working directory copied
 * onto it, the admin password set, Axigen started once under the harness's unit, the CLI
 * conversation held (each reply read to its prompt and checked: a -ERR stops the bring-up with the
 * command and Axigen's own words), the listeners checked with `ss -ltn` to answer on every
 * address, and Axigen stopped again for Pacemaker to run.
 */
export function renderAxigenLayout(): string[] {
  const { host, port } = AXIGEN.cli;
  const ports = AXIGEN.listeners.map((l) => l.port);
  return [
    `install -d ${AXIGEN_STORE_DIR}`,
    `cp -a ${AXIGEN_DIST_DIR}/. ${AXIGEN_STORE_DIR}/`,
    `chown -R ${AXIGEN.user}:${AXIGEN.user} ${AXIGEN_STORE_DIR} 2>/dev/null || true`,
    `${AXIGEN.binary} -A "$(cat ${AXIGEN_ADMIN_FILE})" >&2`,
    `systemctl start ${AXIGEN.unit}`,
    `python3 ${AXIGEN_CLI_CLIENT} ${AXIGEN_SETUP_CLI} ${host} ${port} 120 >&2 || { systemctl stop ${AXIGEN.unit}; exit 1; }`,
    // Listening on every address, not only on 127.0.0.1 (the default): checked, bounded, before the lab is handed over.
    `for i in $(seq 1 60); do missing=; for p in ${ports.join(' ')}; do ss -ltnH "sport = :$p" | awk '{print $4}' | grep -E '^(0[.]0[.]0[.]0|[*]|[[]::[]]):' >/dev/null || missing="$missing $p"; done; [ -z "$missing" ] && break; sleep 1; done`,
    `[ -z "$missing" ] || { echo "Axigen does not listen on every address for port(s)$missing after its listeners were set (ss -ltn: $(ss -ltnH | awk '{print $4}' | tr '\n' ' '))" >&2; systemctl stop ${AXIGEN.unit}; exit 1; }`,
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
    crm: [`primitive axigen systemd:${AXIGEN.unit.replace(/\.service$/, '')}${crmOps([['start', t.mailStart], ['stop', t.mailStop], ['monitor', t.mailMonitor, i.smtp]])}`],
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
  // The harness's unit has no reload; a configuration change reaches Axigen through its CLI, not a reload.
  reloadScript: () => 'true',
  // Axigen resolves a bare login against its primary domain (default: getdomainname()): the full address always resolves.
  loginName: (user, domain) => `${user}@${domain}`,
  smtpProcess: { commandLine: AXIGEN.binary, name: 'axigen' },
  // The installed package's version (the user's package: its name is Axigen's).
  versions: [{ name: 'axigen', command: `dpkg-query -W -f='\${Version}' ${AXIGEN.package}` }],
};
