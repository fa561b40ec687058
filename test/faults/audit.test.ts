import test from 'ava';
import { FAULT_RULE_TAG, nodeAuditScript, parseNodeAudit } from '../../harness/faults/audit.ts';

const clean = [
  '@@link 3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:aa:0a:01 brd ff:ff:ff:ff:ff:ff',
  '@@link 4: eth2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc pfifo_fast state UP mode DEFAULT group default qlen 1000',
  '@@qdisc qdisc noqueue 0: dev lo root refcnt 2',
  '@@qdisc qdisc pfifo_fast 0: dev eth1 root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1',
  '@@iptables -P INPUT ACCEPT',
  '@@iptables -P FORWARD ACCEPT',
  '@@iptables -P OUTPUT ACCEPT',
].join('\n');

test('a clean node has no findings', (t) => {
  t.deepEqual(parseNodeAudit('node1', clean), []);
});

test('a link down, a netem qdisc and a DROP rule are each a finding', (t) => {
  const dirty = [
    '@@link 4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000\\    link/ether 52:54:00:aa:14:01',
    '@@qdisc qdisc netem 8001: dev eth4 root refcnt 2 limit 1000 delay 200ms',
    '@@iptables -P INPUT ACCEPT',
    '@@iptables -A INPUT -i eth2 -m comment --comment ha-chaos-fault -j DROP',
  ].join('\n');
  t.deepEqual(parseNodeAudit('node2', dirty), [
    'node2: link not up: 4: eth2: <BROADCAST,MULTICAST> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT group default qlen 1000 link/ether 52:54:00:aa:14:01',
    'node2: traffic shaping left: qdisc netem 8001: dev eth4 root refcnt 2 limit 1000 delay 200ms',
    'node2: packet filter rule left: -A INPUT -i eth2 -m comment --comment ha-chaos-fault -j DROP',
  ]);
});

test("a cluster's own firewall and shaping are not leftovers: only what carries the harness's mark is", (t) => {
  const own = [
    '@@qdisc qdisc tbf 8002: dev eth1 root refcnt 2 rate 1Gbit burst 128Kb lat 50ms',
    '@@qdisc qdisc htb 1: dev eth2 root refcnt 2 r2q 10 default 0x10',
    '@@iptables -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT',
    '@@iptables -A INPUT -i eth3 -m comment --comment "site firewall" -j DROP',
    '@@iptables -A INPUT -i eth3 -m comment --comment ha-chaos-faulty -j DROP',
  ].join('\n');
  t.deepEqual(parseNodeAudit('node1', own), []);
  t.is(FAULT_RULE_TAG, 'ha-chaos-fault');
});

test('a NIC without carrier (its cable pulled) is not up, even with the UP flag', (t) => {
  t.deepEqual(parseNodeAudit('node1', '@@link 6: eth4: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT'), [
    'node1: link not up: 6: eth4: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT',
  ]);
});

test('a NIC that does not exist is not taken for up', (t) => {
  t.deepEqual(parseNodeAudit('node1', '@@link Device "eth9" does not exist.'), ['node1: link not up: Device "eth9" does not exist.']);
  t.regex(nodeAuditScript(['eth1', 'eth2']), /for n in eth1 eth2; do/);
});
