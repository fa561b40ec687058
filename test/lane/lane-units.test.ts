/** The container lane's pure parts, on literal inputs. */
import test from 'ava';
import { bridgeName } from '../../harness/lane/container-lane.ts';
import { hostInterfaceByIndex, laneTraits, machineState, LANE_EQUIVALENTS } from '../../harness/lane/lane-machines.ts';
import { imageRecipeHash, imageTag } from '../../harness/lane/node-image.ts';
import { renderTargetEnv } from '../../harness/bmc/sim-files.ts';
import { parseBmcConfig } from '../../harness/bmc/bmc-config.ts';
import { notApplicable } from '../../harness/faults/catalog.ts';
import { loadLabConfig } from '../../harness/cluster/lab-config.ts';
import { planLab } from '../../harness/provision/lab-plan.ts';
import { renderNodeProvision } from '../../harness/provision/provision.ts';
import { labTraits } from '../../harness/lab/lab.ts';
import { DEFAULT_LANE_CONFIG } from '../../harness/lane/container-lane.ts';
import { FAULT_KINDS } from '../../harness/scenario/scenario.ts';

const config = loadLabConfig(DEFAULT_LANE_CONFIG);
const secrets = { bmcPassword: 'pw-xyz', corosyncKey: 'a2V5', accounts: { user1: 'p1' } };

test('the veth host end is found by its ifindex in `ip -o link`', (t) => {
  const links = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    '15: vethbcd5f89@if14: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master hct-b state UP mode DEFAULT group default \\    link/ether 8a:3e:1f:aa:bb:cc brd ff:ff:ff:ff:ff:ff link-netnsid 0',
    '126: hc231-client: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default',
  ].join('\n');
  t.is(hostInterfaceByIndex(links, 15), 'vethbcd5f89');
  t.is(hostInterfaceByIndex(links, 126), 'hc231-client');
  t.is(hostInterfaceByIndex(links, 14), undefined);
});

test("docker's container states in the machine findings' words", (t) => {
  t.is(machineState('running\n'), 'running');
  t.is(machineState('paused'), 'paused');
  t.is(machineState('exited'), 'shut off');
  t.is(machineState('created'), 'shut off');
  t.is(machineState(''), 'unknown');
});

test('bridge names fit the 15-byte limit and carry the lane /16', (t) => {
  const plan = planLab(config);
  const names = plan.networks.map((n) => bridgeName(plan, n.role));
  t.deepEqual(names, ['hc231-mgmt', 'hc231-client', 'hc231-ring0', 'hc231-ring1', 'hc231-repl']);
  t.true(names.every((n) => n.length <= 15));
});

test('a BMC whose power target is a container: target.env names it, the config schema accepts it', (t) => {
  const bmc = parseBmcConfig({ name: 'node1', address: '10.231.1.1', port: 6261, username: 'admin', password: 'pw-xyz', target: { kind: 'docker', container: 'hachaos-containers-node1' } }, 'test');
  t.is(renderTargetEnv(bmc, '/x'), "TARGET_KIND=docker\nCONTAINER='hachaos-containers-node1'\n");
  t.throws(() => parseBmcConfig({ name: 'n', address: '10.231.1.1', port: 6261, username: 'admin', password: 'pw-xyz', target: { kind: 'docker', container: 'bad name;rm' } }, 'test'), { message: /container/ });
});

test('the lane lists the faults it cannot do honestly as not applicable, naming the reason; the lab and a cluster still do them', (t) => {
  const lane = laneTraits(config);
  t.regex(notApplicable('kernel-panic-active', lane) ?? '', /kernel of the node's own .*host's.*container lane/);
  t.regex(notApplicable('clock-jump-active', lane) ?? '', /clock of the node's own/);
  t.regex(notApplicable('store-path-loss-active', lane) ?? '', /unplug a disk/);
  t.is(notApplicable('freeze-active', lane), undefined);
  t.is(notApplicable('power-cut-bmc-dead-active', lane), undefined);
  const lab = labTraits(loadLabConfig());
  t.is(notApplicable('kernel-panic-active', lab), undefined);
  t.is(notApplicable('clock-jump-active', lab), undefined);
  // What the lane says it cannot do (its architecture record) names every kind the lane itself refuses, and only those.
  const refusedByLane = FAULT_KINDS.filter((kind) => /container lane/.test(notApplicable(kind, laneTraits(config, true)) ?? ''));
  t.deepEqual(refusedByLane, ['kernel-panic-active', 'clock-jump-active', 'store-path-loss-active', 'disk-bad-sectors-active', 'disk-write-errors-active', 'disk-dropped-writes-passive', 'disk-slow-active', 'disk-hung-active']);
  const words = LANE_EQUIVALENTS['not applicable'] ?? '';
  for (const kind of refusedByLane) t.true(words.includes(kind.replace(/-active$/, '').replaceAll('-', ' ')), `${kind} is named in: ${words}`);
  // A lab with DRBD has the dm device under its store: the disk faults apply there.
  t.is(notApplicable('disk-bad-sectors-active', lab), undefined);
});

test('provisioning a container node writes no networkd files (docker gives the addresses); a VM node still gets them', (t) => {
  const vm = planLab(config);
  const container = { ...vm, addressesGiven: true };
  t.notRegex(renderNodeProvision(container, container.nodes[0]!, secrets), /systemd\/network|networkctl/);
  t.regex(renderNodeProvision(vm, vm.nodes[0]!, secrets), /networkctl reload/);
  t.regex(renderNodeProvision(container, container.nodes[0]!, secrets), /corosync\.conf/);
});

test("the node image's tag carries its recipe's hash", (t) => {
  t.regex(imageRecipeHash(), /^[0-9a-f]{12}$/);
  t.is(imageTag('abc'), 'ha-chaos/node:abc');
});

test('degraded heartbeat needs tc netem in the kernel: a host kernel without it makes it not applicable in the lane, saying so', (t) => {
  t.regex(notApplicable('heartbeat-degraded-active', laneTraits(config, false)) ?? '', /tc netem/);
  t.is(notApplicable('heartbeat-degraded-active', laneTraits(config, true)), undefined);
  t.is(notApplicable('heartbeat-degraded-active', labTraits(loadLabConfig())), undefined);
});
