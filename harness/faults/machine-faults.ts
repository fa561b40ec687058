/**
 * Faults of the machine itself, neither through its BMC nor through the cluster: a freeze (the
 * VM paused by the hypervisor: every process, the kernel and its clock stop, the node holds
 * whatever it held) and a kernel panic (the node's kernel stops; Debian's default is to hang, not
 * reboot). In both the node can neither answer nor let go: only fencing makes a takeover safe.
 * Heal: a node the cluster did not fence is resumed (a freeze) or powered on (a panic would have
 * left it hung: the BMC power-cycles it).
 */
import { measureOffset, setClockScript } from '../observe/clock.ts';
import type { MachineControl } from '../session/target.ts';
import { cleanup } from './node-faults.ts';
import { needs, type Fault, type FaultContext } from './fault.ts';

/** The hypervisor, which only the lab has: a freeze needs it. */
function machines(ctx: FaultContext): MachineControl {
  if (!ctx.target.machines) throw new Error(`${ctx.node}: this target has no hypervisor to pause a machine with`);
  return ctx.target.machines;
}

export const freezeActive: Fault = needs(['machine-pause'], {
  kind: 'freeze-active',
  description: 'the active node freezes (its VM paused by the hypervisor): it still holds DRBD Primary and the IP but answers nothing; the peer must fence it before taking over',
  async inject(ctx) {
    await machines(ctx).pause(ctx.node);
    ctx.log.info(`${ctx.node} frozen (VM paused)`);
    return { node: ctx.node };
  },
  async heal(ctx) {
    // Fenced meanwhile: the BMC destroyed and restarted the domain, which now runs. Not fenced: resume it.
    if ((await machines(ctx).state(ctx.node)) === 'paused') {
      await machines(ctx).resume(ctx.node);
      ctx.log.info(`heal: ${ctx.node} resumed (it was still frozen: never fenced)`);
    }
  },
  async audit(ctx) {
    const state = await machines(ctx).state(ctx.node);
    return state === 'running' ? [] : [`${ctx.node}'s VM is ${state}, not running`];
  },
});

export const kernelPanicActive: Fault = needs(['own-kernel'], {
  kind: 'kernel-panic-active',
  description: "the active node's kernel panics (sysrq crash) and hangs there: the peer must fence it (the power-cycle is what reboots it) and take over",
  async inject(ctx) {
    // The SSH session dies with the kernel: its failure is the expected outcome, not an error.
    await ctx.target.ssh.root(ctx.node, 'echo 1 > /proc/sys/kernel/sysrq; sync; echo c > /proc/sysrq-trigger', { timeoutMs: 15_000, reject: false });
    ctx.log.info(`kernel panic triggered on ${ctx.node}`);
    return { node: ctx.node };
  },
  async heal(ctx) {
    // Fenced: the power-cycle rebooted it. Not fenced: it hangs in the panic; power-cycle it here.
    const alive = await ctx.target.ssh.root(ctx.node, 'true', { timeoutMs: 20_000, reject: false });
    if (alive.ok) return;
    ctx.log.info(`heal: ${ctx.node} does not answer (still in its panic?); power-cycling it through its power device`);
    const r = await ctx.target.powerOf(ctx.node).power('cycle');
    if (!r.acknowledged) throw new Error(`heal: could not power-cycle ${ctx.node}: ${r.error ?? r.state}`);
  },
  async audit(ctx) {
    const r = await ctx.target.ssh.root(ctx.node, 'true', { timeoutMs: 20_000, reject: false });
    return r.ok ? [] : [`${ctx.node} does not answer over SSH (${r.reason})`];
  },
});

/** How far the active node's clock steps forward. */
export const CLOCK_STEP_SECONDS = 600;

/** The node's clock offset before the fault, per lab and node: the release steps back to it. */
const offsetsBefore = new Map<string, number>();
const key = (ctx: FaultContext) => `${ctx.target.plan.name}:${ctx.node}`;

/** Steps the node's clock back to the host's (plus its own offset from before the fault); once done, there is nothing left to step. */
async function stepBack(ctx: FaultContext): Promise<void> {
  const offset = offsetsBefore.get(key(ctx));
  if (offset === undefined) return; // never stepped, or stepped back already
  const r = await ctx.target.ssh.root(ctx.node, setClockScript(Date.now(), offset), { timeoutMs: 30_000, reject: false });
  if (!r.ok) throw new Error(`could not step the clock of ${ctx.node} back: ${r.reason}`);
  offsetsBefore.delete(key(ctx));
  ctx.log.info(`clock of ${ctx.node} stepped back to the true time`);
}

/**
 * The active node's clock steps 10 minutes forward (a bad NTP source, a VM restored from a
 * snapshot), and back when released (NTP correcting it): timers, leases and logs must not make
 * the cluster fail over or the mail service stop.
 */
export const clockJumpActive: Fault = needs(['own-clock'], {
  kind: 'clock-jump-active',
  description: `the active node's clock steps ${CLOCK_STEP_SECONDS / 60} minutes forward, then back to the true time when released: no failover and no fencing; a service the step breaks must be noticed and restarted`,
  async inject(ctx) {
    // The run's measurement, so the step lands when the fault is recorded; measured here without one.
    const before = ctx.clockOffsetsMs?.[ctx.node] ?? (await measureOffset(ctx.target, ctx.node)).offsetMs;
    offsetsBefore.set(key(ctx), before);
    const r = await ctx.target.ssh.root(ctx.node, setClockScript(Date.now(), before + CLOCK_STEP_SECONDS * 1000), { timeoutMs: 30_000 });
    ctx.log.info(`clock of ${ctx.node} stepped ${CLOCK_STEP_SECONDS} s forward`);
    return { node: ctx.node, stepSeconds: CLOCK_STEP_SECONDS, nodeClockAfterMs: Number(BigInt(r.stdout.trim()) / 1_000_000n) };
  },
  async heal(ctx) {
    // A node rebooted meanwhile has its clock from the hypervisor again; stepping it is still right.
    await stepBack(ctx);
    await cleanup(ctx); // a service the step broke was restarted by the cluster: clear its failure record
  },
  release: stepBack,
  async audit(ctx) {
    const now = await measureOffset(ctx.target, ctx.node);
    const before = ctx.clockOffsetsMs?.[ctx.node] ?? 0;
    return Math.abs(now.offsetMs - before) > 5000 ? [`the clock of ${ctx.node} is ${((now.offsetMs - before) / 1000).toFixed(1)} s off`] : [];
  },
});
