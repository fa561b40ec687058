import test from 'ava';
import { CLUSTER_PROBES, clusterVersions, parseVersions, versionScript } from '../../harness/cluster/versions.ts';
import { run } from '../../harness/core/exec.ts';
import { mailServiceOf } from '../../harness/mail/mail.ts';
import { storeOf } from '../../harness/storage/storage.ts';

// What a lab node printed (Debian 12, DRBD 8.4 in the kernel, Postfix + Dovecot), and a node whose Pacemaker was missing.
const NODE1 = 'kernel=6.1.0-28-amd64\npacemaker=2.1.5\ncorosync=3.1.7\ndrbd=8.4.11\npostfix=3.7.11\ndovecot=2.3.19.1\n';
const PROBES = [...CLUSTER_PROBES, { name: 'drbd', command: '' }, { name: 'postfix', command: '' }, { name: 'dovecot', command: '' }];

test('a node\'s versions: each probe\'s value; what was not printed is unknown; control characters and overlong values cut', (t) => {
  t.deepEqual(parseVersions(NODE1, PROBES), { kernel: '6.1.0-28-amd64', pacemaker: '2.1.5', corosync: '3.1.7', drbd: '8.4.11', postfix: '3.7.11', dovecot: '2.3.19.1' });
  t.deepEqual(parseVersions('kernel=6.1\npacemaker=\n', CLUSTER_PROBES), { kernel: '6.1', pacemaker: 'unknown', corosync: 'unknown' });
  t.is(parseVersions(`kernel=\u001b[31m6.1${'x'.repeat(200)}\n`, CLUSTER_PROBES).kernel?.length, 64);
  t.false(parseVersions('kernel=\u001b[31m6.1\n', CLUSTER_PROBES).kernel?.includes('\u001b'));
  t.is(parseVersions('kernel=1\nkernel=2\n', CLUSTER_PROBES).kernel, '1', 'the first line of a name counts');
});

test('the cluster\'s versions: one value where the nodes agree, each node\'s where they differ (a rolling upgrade half done)', (t) => {
  const node2 = { ...parseVersions(NODE1, PROBES), pacemaker: '2.1.6' };
  t.deepEqual(clusterVersions({ node2, node1: parseVersions(NODE1, PROBES) }), {
    corosync: '3.1.7', dovecot: '2.3.19.1', drbd: '8.4.11', kernel: '6.1.0-28-amd64', pacemaker: 'node1 2.1.5, node2 2.1.6', postfix: '3.7.11',
  });
});

test('the node script runs in bash: a missing program prints an empty value, never stops the others (no early-exit reader on a pipe)', async (t) => {
  const probes = [{ name: 'missing', command: 'no-such-program-here --version' }, { name: 'shell', command: 'echo "5.2.15(1)-release"; echo second line' }, ...CLUSTER_PROBES.slice(0, 1)];
  const r = await run('bash', ['-o', 'pipefail', '-c', versionScript(probes)], { timeoutMs: 10_000 });
  const versions = parseVersions(r.stdout, probes);
  t.is(versions.missing, 'unknown');
  t.is(versions.shell, '5.2.15(1)-release');
  t.regex(versions.kernel!, /^\d+\.\d+/);
  t.throws(() => versionScript([{ name: 'Bad; rm', command: 'true' }]), { message: /not a short lowercase name/ });
});

test('each seam names its versions: DRBD its module, a shared disk none, Postfix + Dovecot both, Axigen its package', (t) => {
  const plan = (storage: 'drbd' | 'shared', mailService: 'postfix-dovecot' | 'axigen') => ({ storage, mailService });
  t.deepEqual(storeOf(plan('drbd', 'postfix-dovecot')).versions.map((p) => p.name), ['drbd']);
  t.deepEqual(storeOf(plan('shared', 'postfix-dovecot')).versions, []);
  t.deepEqual(mailServiceOf(plan('drbd', 'postfix-dovecot')).versions.map((p) => p.name), ['postfix', 'dovecot']);
  t.deepEqual(mailServiceOf(plan('drbd', 'axigen')).versions.map((p) => p.name), ['axigen']);
});
