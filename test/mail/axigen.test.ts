import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../harness/core/exec.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { loadLabConfig, parseLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { renderCib } from '../../harness/provision/cluster-files.ts';
import { renderNodeProvision, renderStoreLayout } from '../../harness/provision/provision.ts';
import { AXIGEN, AXIGEN_PACKAGE_ON_NODE, axigenAdminPassword, axigenSetupSteps, renderAxigenUnit, renderCliConversation } from '../../harness/mail/axigen.ts';
import { mailServiceOf } from '../../harness/mail/mail.ts';
import { buildStandinPackage } from '../fixtures/axigen-standin/build.ts';
import { tempDir } from '../helpers.ts';

const secrets = { bmcPassword: 'bmc-pw', corosyncKey: 'Y29yb3N5bmMta2V5', accounts: { user1: 'pw "one"', user2: 'pw2' } };

function axigenPlan() {
  const dir = tempDir();
  const deb = join(dir, 'axigen.deb');
  // The first bytes of a .deb (an ar archive whose first member is debian-binary): what the lab config checks.
  writeFileSync(deb, '!<arch>\ndebian-binary   1733400000  0     0     100644  4         `\n2.0\n');
  const base = loadLabConfig();
  return planLab(parseLabConfig({ ...base, mail: { ...base.mail, package: deb } }, 'literal'));
}

test('mail.package names the Axigen adapter; null the open stand-in', (t) => {
  t.is(mailServiceOf(planLab(loadLabConfig())).kind, 'postfix-dovecot');
  const plan = axigenPlan();
  t.is(plan.mailService, 'axigen');
  t.is(mailServiceOf(plan).kind, 'axigen');
  t.deepEqual(mailServiceOf(plan).smtpProcess, { commandLine: '/opt/axigen/bin/axigen', name: 'axigen' });
});

test('a mail.package that is not an absolute path to a .deb file is refused, naming the field', (t) => {
  const base = loadLabConfig();
  for (const [pkg, why] of [
    ['axigen.deb', /is not an absolute path/],
    ['/nonexistent/axigen.deb', /does not exist/],
    ['/etc', /is not a Debian package \(\.deb\)/],
    ['/etc/hostname', /is not a Debian package/],
    ['/tmp/axigen-10.0.0.amd64.deb.run', /is a self-extracting installer \(\.deb\.run\), which the harness does not run: extract the \.deb from it first/],
  ] as const) {
    const error = t.throws(() => parseLabConfig({ ...base, mail: { ...base.mail, package: pkg } }, 'lab.json'), { instanceOf: ValidationError });
    t.regex(error!.message, /\/mail\/package: /);
    t.regex(error!.message, why);
  }
});

test("the CLI conversation follows Axigen's contexts: CREATE then COMMIT, each ADD Account its own COMMIT, the listeners on every address, the primary domain, SAVE CONFIG", (t) => {
  const admin = axigenAdminPassword(secrets);
  const steps = axigenSetupSteps({ mailDomain: 'lab.test' }, secrets);
  t.deepEqual(
    steps.map((s) => `${s.prompt} ${s.secret ? '(secret) ' : ''}${s.command}`),
    [
      '<password> USER admin',
      `<#> (secret) ${admin}`,
      `<domain-create#> (secret) CREATE Domain name lab.test domainLocation "/var/opt/axigen/domains/lab.test" postmasterPassword "${admin}"`,
      '<#> COMMIT',
      '<domain#> UPDATE Domain name lab.test',
      '<domain-account#> (secret) ADD Account name user1 password "pw \\"one\\""',
      '<domain#> COMMIT',
      '<domain-account#> (secret) ADD Account name user2 password "pw2"',
      '<domain#> COMMIT',
      '<#> COMMIT',
      '<server#> CONFIG SERVER',
      '<server#> SET primaryDomain lab.test',
      '<server-smtpIncoming#> CONFIG SMTP-INCOMING',
      '<*> UPDATE Listener address 127.0.0.1:25',
      '<*> SET address 0.0.0.0:25',
      '<server-smtpIncoming#> COMMIT',
      '<server#> COMMIT',
      '<server-imap#> CONFIG IMAP',
      '<*> UPDATE Listener address 127.0.0.1:143',
      '<*> SET address 0.0.0.0:143',
      '<server-imap#> COMMIT',
      '<server#> COMMIT',
      '<server-pop3#> CONFIG POP3',
      '<*> UPDATE Listener address 127.0.0.1:110',
      '<*> SET address 0.0.0.0:110',
      '<server-pop3#> COMMIT',
      '<server#> COMMIT',
      '<#> COMMIT',
      '<#> SAVE CONFIG',
      '(connection closed) QUIT',
    ],
  );
  t.regex(renderCliConversation(steps), /^<#>\t!/m, 'a secret is marked, so the client never shows it');
  t.throws(() => renderCliConversation([{ command: 'SET x\nQUIT', prompt: '<#>' }]));
  t.is(axigenAdminPassword(secrets), axigenAdminPassword({ corosyncKey: secrets.corosyncKey }), 'derived from the lab secret: stable');
  t.not(axigenAdminPassword(secrets), axigenAdminPassword({ corosyncKey: 'b3RoZXI=' }));
  t.is(mailServiceOf(axigenPlan()).loginName('user1', 'lab.test'), 'user1@lab.test', 'a login Axigen resolves whatever its primary domain');
});

test("provisioning installs the package once, masks the vendor's SysV service, runs the harness's own unit (refused with RemainAfterExit=yes), and puts the working directory on the store", (t) => {
  const plan = axigenPlan();
  const script = renderNodeProvision(plan, plan.nodes[0]!, secrets, 'hash');
  t.true(script.includes(`dpkg -i ${AXIGEN_PACKAGE_ON_NODE}`));
  t.true(script.includes('systemctl mask axigen.service'));
  t.true(script.includes('update-rc.d axigen disable'));
  t.regex(script, /^Type=simple$/m);
  t.regex(script, /^ExecStart=\/opt\/axigen\/bin\/axigen --foreground$/m);
  t.regex(script, /systemctl show -p RemainAfterExit --value axigen-ha\.service\)" = no \] \|\| \{ echo "refusing axigen-ha\.service/);
  t.true(script.includes(`ln -sfn /srv/mail/axigen ${AXIGEN.workDir}`));
  t.false(script.includes('postconf -e'), 'the stand-in Postfix is not configured');
  const layout = renderStoreLayout(plan).join('\n');
  t.regex(layout, /cp -a \/var\/opt\/axigen\.dist\/\. \/srv\/mail\/axigen\//);
  t.regex(layout, /\/opt\/axigen\/bin\/axigen -A "\$\(cat \/etc\/ha-chaos\/axigen-admin\.pw\)"/);
  t.regex(layout, /python3 \/etc\/ha-chaos\/axigen-cli\.py \/etc\/ha-chaos\/axigen-setup\.cli 127\.0\.0\.1 7000 120/);
  t.regex(layout, /ss -ltnH "sport = :\$p"/);
  t.is(renderAxigenUnit().includes('RemainAfterExit'), false);
});

test("the RemainAfterExit refusal, run: a unit systemd reads as RemainAfterExit=yes stops provisioning, naming it; =no passes", async (t) => {
  const plan = axigenPlan();
  const line = renderNodeProvision(plan, plan.nodes[0]!, secrets, 'hash').split('\n').find((l) => l.includes('systemctl show -p RemainAfterExit'))!;
  const bin = tempDir();
  for (const [answer, ok] of [['yes', false], ['no', true]] as const) {
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho ${answer}\n`, { mode: 0o755 });
    const r = await run('bash', ['-c', line], { timeoutMs: 10_000, reject: false, env: { PATH: `${bin}:${process.env.PATH}` } });
    t.is(r.ok, ok, answer);
    if (!ok) t.regex(r.stderr, /refusing axigen-ha\.service: systemd reads RemainAfterExit=yes/);
  }
});

test('the CIB runs Axigen as one systemd resource with the store group, after it, with explicit timeouts', (t) => {
  const cib = renderCib(axigenPlan());
  t.regex(cib, /^primitive axigen systemd:axigen-ha op start timeout=\S+ op stop timeout=\S+ op monitor interval=\S+ timeout=\S+$/m);
  t.regex(cib, /^colocation c_axigen_with_store inf: axigen g_mail$/m);
  t.regex(cib, /^order o_store_before_axigen Mandatory: g_mail axigen$/m);
  t.notRegex(cib, /ocf:hachaos:postfix|ocf:hachaos:dovecot/);
});

test("the stand-in package installs a service under Axigen's names and paths (and says it is not Axigen)", async (t) => {
  const deb = await buildStandinPackage(tempDir());
  const fields = await run('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Description'], { timeoutMs: 30_000 });
  t.regex(fields.stdout, /^Package: axigen$/m);
  t.regex(fields.stdout, /NOT Axigen/);
  const files = (await run('dpkg-deb', ['-c', deb], { timeoutMs: 30_000 })).stdout;
  for (const path of ['./opt/axigen/bin/axigen', './opt/axigen/lib/standin.py', './etc/init.d/axigen']) t.true(files.includes(path), path);
  t.false(files.includes('axigen.service'), 'no native unit: Axigen ships a SysV script');
  t.regex(files, /^-rwxr-xr-x root\/root .* \.\/opt\/axigen\/bin\/axigen$/m);
});

test("Axigen's own log files go into the evidence where the store is mounted; the stand-in's logs are the journal's", (t) => {
  const script = mailServiceOf(axigenPlan()).logScript()!;
  t.regex(script, /^mountpoint -q \/srv\/mail \|\| \{ echo .*; exit 0; \}; for f in \/var\/opt\/axigen\/log\/\*; do/);
  t.regex(script, /tail -n 2000 "\$f"/);
  t.is(mailServiceOf(planLab(loadLabConfig())).logScript(), null);
});
