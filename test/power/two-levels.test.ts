/** A node fenced in two levels (its BMC, then PDU outlets), on literal device answers: power requests, status and the power log. */
import test from 'ava';
import { TwoLevelNodePower, type NodePower, type NodePowerAction, type NodePowerResult } from '../../harness/power/power-device.ts';
import type { PowerEvent } from '../../harness/power/power-log.ts';

/** A device that answers from a script: its supply readings (undefined: silent) and whether a request is acknowledged. */
function device(kind: 'ipmi' | 'pdu', readings: () => Record<string, 'on' | 'off'> | undefined, acknowledges: () => boolean, log: PowerEvent[] = []): NodePower & { asked: NodePowerAction[] } {
  const asked: NodePowerAction[] = [];
  return {
    asked,
    node: 'node1',
    kind,
    describe: () => (kind === 'ipmi' ? 'IPMI BMC 10.215.1.1:6231 (fence_ipmilan)' : 'PDU pdu1 outlet 1, PDU pdu2 outlet 1 (fence_apc_snmp)'),
    supplies: () => (kind === 'ipmi' ? ['bmc'] : ['pdu1:1', 'pdu2:1']),
    power: async (action): Promise<NodePowerResult> => {
      asked.push(action);
      return acknowledges() ? { action, acknowledged: true, state: action === 'on' ? 'on' : 'off', durationMs: 10 } : { action, acknowledged: false, state: 'unknown', durationMs: 3000, error: 'no answer' };
    },
    status: async () => 'on',
    supplyStatus: async () => {
      const r = readings();
      if (!r) throw new Error('no answer');
      return r;
    },
    targetPower: async () => 'off',
    powerLog: () => log,
    isRunning: () => true,
  };
}

test('off goes through the BMC, and through the outlets only when the BMC does not answer; on feeds the outlets first', async (t) => {
  let bmcUp = true;
  const bmc = device('ipmi', () => (bmcUp ? { bmc: 'on' } : undefined), () => bmcUp);
  const pdu = device('pdu', () => ({ 'pdu1:1': 'on', 'pdu2:1': 'on' }), () => true);
  const node = new TwoLevelNodePower(bmc, pdu);
  t.is(node.kind, 'ipmi+pdu');
  t.deepEqual(node.supplies(), ['bmc', 'pdu1:1', 'pdu2:1']);
  t.is(node.describe(), 'level 1: IPMI BMC 10.215.1.1:6231 (fence_ipmilan); level 2: PDU pdu1 outlet 1, PDU pdu2 outlet 1 (fence_apc_snmp)');
  t.true((await node.power('off')).acknowledged);
  t.deepEqual([bmc.asked, pdu.asked], [['off'], []]);
  bmcUp = false;
  const off = await node.power('off');
  t.true(off.acknowledged, 'level 2 did it');
  t.deepEqual([bmc.asked, pdu.asked], [['off', 'off'], ['off']]);
  bmcUp = true;
  await node.power('on');
  t.deepEqual([bmc.asked.at(-1), pdu.asked.at(-1)], ['on', 'on']);
});

test('status: off when every outlet is off (whatever the BMC), on only when the chassis and an outlet are; a silent BMC beside live outlets is not known', async (t) => {
  const read = (bmc: Record<string, 'on' | 'off'> | undefined, outlets: Record<string, 'on' | 'off'>) => new TwoLevelNodePower(device('ipmi', () => bmc, () => true), device('pdu', () => outlets, () => true)).status();
  t.is(await read({ bmc: 'on' }, { 'pdu1:1': 'off', 'pdu2:1': 'off' }), 'off');
  t.is(await read(undefined, { 'pdu1:1': 'off', 'pdu2:1': 'off' }), 'off', 'a dead BMC and both outlets off: off');
  t.is(await read({ bmc: 'on' }, { 'pdu1:1': 'off', 'pdu2:1': 'on' }), 'on');
  t.is(await read({ bmc: 'off' }, { 'pdu1:1': 'on', 'pdu2:1': 'on' }), 'off');
  await t.throwsAsync(read(undefined, { 'pdu1:1': 'on', 'pdu2:1': 'off' }), { message: /the BMC of node1 does not answer and an outlet feeding it is on/ });
});

test("the power log is both devices', in time order; devices of two nodes or of the wrong kinds are refused", (t) => {
  const bmcLog: PowerEvent[] = [{ node: 'node1', time: 100, request: 'power', value: '0', result: 'done' }];
  const pduLog: PowerEvent[] = [{ node: 'node1', time: 50, request: 'power', value: '0', result: 'done', supply: 'pdu1:1' }, { node: 'node1', time: 150, request: 'power', value: '1', result: 'done', supply: 'pdu1:1' }];
  const node = new TwoLevelNodePower(device('ipmi', () => ({}), () => true, bmcLog), device('pdu', () => ({}), () => true, pduLog));
  t.deepEqual(node.powerLog().map((e) => e.time), [50, 100, 150]);
  t.throws(() => new TwoLevelNodePower(device('pdu', () => ({}), () => true), device('ipmi', () => ({}), () => true)), { message: /BMC, then the PDU outlets/ });
  t.throws(() => new TwoLevelNodePower(device('ipmi', () => ({}), () => true), { ...device('pdu', () => ({}), () => true), node: 'node2' }), { message: /same node/ });
});
