import test from 'ava';
import { parseIdentity, preflightProblems, safetyProblems, clusterTraits } from '../../harness/existing/existing-cluster.ts';
import { linkScript } from '../../harness/session/in-node-nics.ts';
import { notApplicable } from '../../harness/faults/catalog.ts';
import { hostProgramsBetween } from '../../harness/run/run-scenario.ts';
import type { ResolvedNode } from '../../harness/cluster/target-file.ts';
import type { ClusterStatus } from '../../harness/cluster/status.ts';

const node: ResolvedNode = {
  name: 'mx1',
  ssh: { address: '198.51.100.11', port: 22, user: 'root', key: '/k' },
  nics: { client: 'eth1', ring0: 'eth2', ring1: 'eth3', replication: 'eth4' },
  ipmi: { address: '198.51.100.201', port: 623, username: 'admin', password: 'x' },
};

const identityOutput = [
  '@@cluster mail-prod-a',
  '@@stonith true',
  '@@addr lo 127.0.0.1/8',
  '@@addr eth0 198.51.100.11/24',
  '@@addr eth1 10.0.10.11/24',
  '@@addr eth1 10.0.10.100/24',
  '@@addr eth2 10.0.20.11/24',
  '@@addr eth3 10.0.30.11/24',
  '@@addr eth4 10.0.40.11/24',
].join('\n');

test('identity: the CIB cluster name, stonith-enabled and every address per interface', (t) => {
  const id = parseIdentity(identityOutput);
  t.is(id.cluster, 'mail-prod-a');
  t.true(id.stonithEnabled);
  t.deepEqual(id.addresses.find((a) => a.address === '198.51.100.11'), { nic: 'eth0', address: '198.51.100.11' });
  t.false(parseIdentity('@@cluster x\n@@stonith false\n').stonithEnabled);
});

test('safety: the right cluster, SSH on a management NIC, every role NIC present, fencing on: nothing to refuse', (t) => {
  t.deepEqual(safetyProblems(node, 'mail-prod-a', parseIdentity(identityOutput)), []);
});

test('safety: another cluster name is refused before anything is injected', (t) => {
  const [problem] = safetyProblems(node, 'mail-prod-b', parseIdentity(identityOutput));
  t.regex(problem!, /mx1: its CIB says cluster-name "mail-prod-a", the target file "mail-prod-b": refusing/);
});

test('safety: SSH over a ring interface is refused (its fault would cut the heal off), and so is a NIC name with no address, and fencing off', (t) => {
  const onRing = { ...node, ssh: { ...node.ssh, address: '10.0.20.11' } };
  t.regex(safetyProblems(onRing, 'mail-prod-a', parseIdentity(identityOutput)).join('\n'), /SSH address 10\.0\.20\.11 is on eth2, the ring0 interface/);
  const typo = { ...node, nics: { ...node.nics, ring1: 'eth9' } };
  t.regex(safetyProblems(typo, 'mail-prod-a', parseIdentity(identityOutput)).join('\n'), /no IPv4 address on eth9 \(the ring1 interface/);
  t.regex(safetyProblems(node, 'mail-prod-a', parseIdentity(identityOutput.replace('@@stonith true', '@@stonith false'))).join('\n'), /stonith-enabled is false/);
});

test('pre-flight: unmet readiness, failed actions and a clock far off are each a reason to refuse', (t) => {
  const status = { pacemaker: { nodes: [], resources: [], failCounts: [], failures: [{ id: 'smtp_monitor_30000', task: 'monitor', node: 'mx1', exitReason: 'boom', status: 'error', exitstatus: 'error', rc: '1', lastRcChange: '' }] } } as unknown as ClusterStatus;
  const problems = preflightProblems(status, ['node(s) not online: mx2'], { mx1: 200, mx2: -7300 });
  t.is(problems[0], 'node(s) not online: mx2');
  t.true(problems.some((p) => /fix it first/.test(p)), problems.join('\n'));
  t.true(problems.some((p) => /mx2's clock is -7\.3 s off the host's/.test(p)));
  t.deepEqual(preflightProblems({ pacemaker: { nodes: [], resources: [], failCounts: [], failures: [] } } as unknown as ClusterStatus, [], { mx1: 100 }), []);
});

test('NIC loss inside the node: every link in one command, down and up', (t) => {
  t.is(linkScript(['eth2', 'eth3'], 'down'), 'ip link set dev eth2 down && ip link set dev eth3 down && echo done');
  t.is(linkScript(['eth2'], 'up'), 'ip link set dev eth2 up && echo done');
});

test('an existing cluster runs what it can do honestly; faults that need a hypervisor or a breakable BMC are not applicable, saying why', (t) => {
  const traits = clusterTraits({ name: 'c', storage: 'drbd' });
  for (const kind of ['power-cut-active', 'heartbeat-loss-active', 'kill-corosync-active', 'kernel-panic-active', 'one-ring-loss-active', 'client-nic-loss-active', 'hard-reset-active', 'clock-jump-active'] as const) {
    t.is(notApplicable(kind, traits), undefined, kind);
  }
  t.regex(notApplicable('freeze-active', traits)!, /needs a hypervisor to pause the machine/);
  t.regex(notApplicable('disk-death-active', traits)!, /needs a hypervisor to unplug a disk/);
  t.regex(notApplicable('power-cut-bmc-dead-active', traits)!, /a power device the harness can kill, hang or slow/);
  t.regex(notApplicable('store-path-loss-active', clusterTraits({ name: 'c', storage: 'shared' }))!, /needs a hypervisor to unplug a disk/);
});

test('host programs of a run: the counts between two readings, and the hypervisor calls among them', (t) => {
  t.deepEqual(hostProgramsBetween({ ssh: 10, virsh: 3 }, { ssh: 25, virsh: 3, ipmitool: 4 }), { programs: { ssh: 15, ipmitool: 4 }, hypervisorCalls: 0 });
  t.is(hostProgramsBetween({}, { virsh: 2, vagrant: 1 }).hypervisorCalls, 3);
});
