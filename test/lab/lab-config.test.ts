import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LAB_CONFIG, loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { ValidationError } from '../../harness/core/schema.ts';
import { tempDir } from '../helpers.ts';

// A config under edit: any shape, since the point is to break it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const base = JSON.parse(readFileSync(DEFAULT_LAB_CONFIG, 'utf8')) as Record<string, unknown>;

function problemsOf(edit: (c: Loose) => void): string[] {
  const config = structuredClone(base) as Loose;
  edit(config);
  const file = join(tempDir(), 'lab.json');
  writeFileSync(file, JSON.stringify(config));
  try {
    loadLabConfig(file);
    return [];
  } catch (error) {
    // The file is one line: every problem is on line 1 (lines are tested in lab-config-input.test.ts).
    if (error instanceof ValidationError) return error.problems.map((p) => p.replace(/^line 1: /, ''));
    throw error;
  }
}

test('the default lab config is valid', (t) => {
  t.notThrows(() => loadLabConfig());
});

test('a wrong lab config gets errors naming the field', (t) => {
  t.deepEqual(problemsOf((c) => (c.nodes.memoryMiB = 256)), ['/nodes/memoryMiB: must be >= 768']);
  t.deepEqual(problemsOf((c) => delete c.fencing.delayNode1), ['/fencing/delayNode1: is required but missing']);
  t.deepEqual(problemsOf((c) => (c.cluster.operationTimeouts.mailStart = '2 minutes')), ['/cluster/operationTimeouts/mailStart: must be whole seconds, at most 5 digits, such as "90s"']);
  t.deepEqual(problemsOf((c) => (c.network.prefix = '8.8')), [
    "/network/prefix: must be the first two octets of a private /16 network: 10.0 to 10.255, 172.16 to 172.31, or 192.168 (e.g. 10.213); the lab's addresses are <prefix>.<subnet>.<host>",
  ]);
  t.deepEqual(problemsOf((c) => (c.network.subnets.ring1 = c.network.subnets.ring0)), ['/network/subnets: every network needs its own subnet number']);
  t.deepEqual(problemsOf((c) => (c.stroage = 'drbd')), ['stroage: is not a known field (check its spelling)']);
  t.regex(problemsOf((c) => (c.mail.package = '/nonexistent/axigen.deb'))[0]!, /^\/mail\/package: cannot use this mail package: it does not exist; give the path of an Axigen \.deb, or null/);
});

test('a file that is not JSON is named', (t) => {
  const file = join(tempDir(), 'lab.json');
  writeFileSync(file, '{ "name": ');
  const error = t.throws(() => loadLabConfig(file), { instanceOf: ValidationError });
  t.regex(error!.message, /lab\.json is invalid:\n {2}- not valid JSON: line 1, column 11: expected a value/);
});

test('the plan derives every address from the one range', (t) => {
  const plan = planLab(loadLabConfig());
  t.is(plan.prefix, 'hachaos-lab-');
  t.is(plan.virtualIp, '10.213.10.100');
  t.is(plan.bmcAddress, '10.213.1.1');
  t.deepEqual(plan.nodes.map((n) => n.ip), [
    { client: '10.213.10.11', ring0: '10.213.20.11', ring1: '10.213.30.11', replication: '10.213.40.11' },
    { client: '10.213.10.12', ring0: '10.213.20.12', ring1: '10.213.30.12', replication: '10.213.40.12' },
  ]);
  t.deepEqual(plan.nodes.map((n) => [n.domain, n.bmcPort]), [
    ['hachaos-lab-node1', 6231],
    ['hachaos-lab-node2', 6232],
  ]);
  t.deepEqual(plan.networks.map((n) => [n.libvirtName, n.cidr]), [
    ['hachaos-lab-management', '10.213.1.0/24'],
    ['hachaos-lab-client', '10.213.10.0/24'],
    ['hachaos-lab-ring0', '10.213.20.0/24'],
    ['hachaos-lab-ring1', '10.213.30.0/24'],
    ['hachaos-lab-replication', '10.213.40.0/24'],
  ]);
  const macs = plan.nodes.flatMap((n) => Object.values(n.mac));
  t.is(new Set(macs).size, 10, 'every NIC has its own MAC');
  t.true(macs.every((m) => /^52:54:00(:[0-9a-f]{2}){3}$/.test(m)));
  t.deepEqual(plan.nodes[0]!.nic, { management: 'eth0', client: 'eth1', ring0: 'eth2', ring1: 'eth3', replication: 'eth4' });
});
