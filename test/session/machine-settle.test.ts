/**
 * Convergence judges a machine finding only once it lasts: a VM a heal just powered on is seen
 * paused for a moment (QEMU starts it paused), which is not "nothing would start it".
 */
import test from 'ava';
import { silentLogger } from '../../harness/core/log.ts';
import { ClusterSession } from '../../harness/session/cluster-session.ts';
import type { NicControl, StartedTarget, TargetTraits } from '../../harness/session/target.ts';
import type { ClusterPlan } from '../../harness/cluster/plan.ts';
import type { NodeShell } from '../../harness/cluster/ssh.ts';

/** A session whose machines report the given states in turn (the last one repeats). */
class MachinesInTurn extends ClusterSession {
  readonly traits: TargetTraits = { kind: 'lab', storage: 'drbd', methods: [], describe: 'test' };
  readonly plan: ClusterPlan = { name: 't', storage: 'drbd', nodes: [], virtualIp: '10.0.0.1', mailDomain: 'lab.test', mailService: 'postfix-dovecot' };
  readonly ssh = {} as NodeShell;
  readonly power = [];
  readonly accel: StartedTarget['accel'] = 'tcg';
  readonly nics = {} as NicControl;
  readonly log = silentLogger;
  reads = 0;
  constructor(
    private readonly states: string[][],
    settleMs: number,
  ) {
    super();
    this.machineSettleMs = settleMs;
  }
  accounts(): Record<string, string> {
    return {};
  }
  secretValues(): string[] {
    return [];
  }
  protected async machineFindings(): Promise<string[]> {
    return this.states[Math.min(this.reads++, this.states.length - 1)]!;
  }
  settled(): Promise<string[]> {
    return this.settledMachineFindings();
  }
}

test('a VM seen paused right after its power-on, then running, is no finding', async (t) => {
  const session = new MachinesInTurn([["node1's VM is paused: nothing in the cluster would start it"], []], 2000);
  t.deepEqual(await session.settled(), []);
  t.is(session.reads, 2, 'read again before judging');
});

test('a machine that stays off is a finding once the settle time is out, with its words', async (t) => {
  const session = new MachinesInTurn([["node1's VM is shut off: nothing in the cluster would start it"]], 400);
  t.deepEqual(await session.settled(), ["node1's VM is shut off: nothing in the cluster would start it"]);
  t.true(session.reads >= 2, 'read more than once');
});

test('all running at once: no wait, no finding', async (t) => {
  const session = new MachinesInTurn([[]], 60_000);
  t.deepEqual(await session.settled(), []);
  t.is(session.reads, 1);
});
