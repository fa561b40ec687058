/**
 * Faults through the node's BMC, behind the cluster's back: a power cut (chassis power off) and
 * a hard reset. The cluster must notice, fence the node and take over. Heal: power on if the
 * node is still off (normally the cluster's fence has already power-cycled it).
 */
import { needs, type Fault, type FaultContext } from './fault.ts';
import { cleanup } from './node-faults.ts';
import type { PowerKnobs } from '../power/power-device.ts';

/** The knobs of the node's power device (the lab's virtual BMC or PDU). */
function knobs(ctx: FaultContext): PowerKnobs {
  const k = ctx.target.powerOf(ctx.node).knobs;
  if (!k) throw new Error(`the power device of ${ctx.node} cannot be faulted by the harness (${ctx.target.powerOf(ctx.node).describe()})`);
  return k;
}

async function ensureOn(ctx: FaultContext): Promise<void> {
  const power = ctx.target.powerOf(ctx.node);
  if ((await power.targetPower()) === 'off') {
    ctx.log.info(`heal: ${ctx.node} is still off; powering it on through its power device`);
    const r = await power.power('on');
    if (r.state !== 'on') throw new Error(`heal: could not power ${ctx.node} on: ${r.error ?? r.state}`);
  }
}

async function audit(ctx: FaultContext): Promise<string[]> {
  const power = ctx.target.powerOf(ctx.node);
  const left: string[] = [];
  if ((await power.targetPower()) !== 'on') left.push(`${ctx.node} is powered off`);
  if (!power.isRunning()) left.push(`the power device of ${ctx.node} is not running`);
  return left;
}

async function powerAction(ctx: FaultContext, action: 'off' | 'reset'): Promise<unknown> {
  const result = await ctx.target.powerOf(ctx.node).power(action);
  if (!result.acknowledged) throw new Error(`power ${action} of ${ctx.node} not acknowledged: ${result.error}`);
  return { node: ctx.node, action, state: result.state, ms: result.durationMs };
}

export const powerCutActive: Fault = {
  kind: 'power-cut-active',
  description: 'the active node loses power (chassis power off through its BMC, behind the cluster)',
  inject: (ctx) => powerAction(ctx, 'off'),
  heal: ensureOn,
  audit,
};

export const hardResetActive: Fault = {
  kind: 'hard-reset-active',
  description: 'the active node is hard-reset through its BMC, behind the cluster',
  inject: (ctx) => powerAction(ctx, 'reset'),
  heal: ensureOn,
  audit,
};

/**
 * A power cut while the node's BMC is dead: the cluster cannot confirm the fence, so the
 * survivor must wait (service down) rather than take over. Released (scenario `holdSeconds`)
 * by the BMC coming back, which lets a retried fence succeed and the takeover follow.
 */
export const powerCutBmcDeadActive: Fault = needs(['power-device-faults'], {
  kind: 'power-cut-bmc-dead-active',
  description: "the active node loses power and its BMC dies with it: no fence can be confirmed, so the peer must not take over until the BMC answers again",
  async inject(ctx) {
    const cut = await powerAction(ctx, 'off');
    await knobs(ctx).kill();
    ctx.log.info(`${ctx.node} powered off, its BMC dead`);
    return { ...(cut as object), bmc: 'dead' };
  },
  release: async (ctx) => {
    await knobs(ctx).revive();
    ctx.log.info(`release: the BMC of ${ctx.node} answers again (the node stays off)`);
  },
  async heal(ctx) {
    await knobs(ctx).heal();
    await ensureOn(ctx);
    // A fence device's monitor that ran while the BMC was dead failed: the outage's record, cleared as an operator would.
    await cleanup(ctx);
  },
  audit, // the lab audit adds every BMC's leftovers (power control, hung, dead)
});

/**
 * A power cut, and the node's power device is sluggish: every power request takes seconds while its one
 * event loop answers nothing. The fence must still complete (retried if need be) and the
 * takeover must wait for it.
 */
export const powerCutSlowBmcActive: Fault = needs(['power-device-faults'], {
  kind: 'power-cut-slow-bmc-active',
  description: `the active node loses power and its power device turns slow (every power request delayed: 5 s for a BMC, long enough that ipmitool retransmits; 0.8 s for a PDU, near what fence_apc_snmp tolerates): the fence takes longer but must be confirmed before the peer takes over`,
  async inject(ctx) {
    const cut = await powerAction(ctx, 'off');
    const k = knobs(ctx);
    k.setPowerControl({ delayMs: k.slowDelayMs });
    return { ...(cut as object), bmcDelayMs: k.slowDelayMs };
  },
  release: async (ctx) => knobs(ctx).setPowerControl({}),
  async heal(ctx) {
    await knobs(ctx).heal();
    await ensureOn(ctx);
  },
  audit, // the lab audit adds every BMC's leftovers (power control, hung, dead)
});

/**
 * A loss of mains power at the active node: the node and its BMC lose power together, for good,
 * until the heal (power returns). A BMC without power answers nothing, so with IPMI-only fencing
 * no fence can be confirmed and the peer must never take over: the service stays down until power
 * returns (the architecture's weakness, which the scenario names). A PDU is fed apart from the node
 * (another circuit, a UPS): its outlets still answer, so a power-switch fence is confirmed and the
 * peer takes over. Unlike power-cut-bmc-dead-active, nothing comes back by itself.
 */
export const powerLossActive: Fault = needs(['power-device-faults'], {
  kind: 'power-loss-active',
  description: "the active node loses mains power with its BMC (a PDU, fed apart, keeps answering): held until the heal",
  async inject(ctx) {
    const power = ctx.target.powerOf(ctx.node);
    const cut = await powerAction(ctx, 'off');
    if (power.kind === 'ipmi') {
      await knobs(ctx).kill();
      ctx.log.info(`${ctx.node} lost mains power, and its BMC with it (dead until the heal)`);
      return { ...(cut as object), bmc: 'dead' };
    }
    if (power.kind === 'ipmi+pdu') {
      // Its supplies have no power: the BMC dies with the node, and the outlets (the PDUs still
      // answer) switch nothing live: a level-2 fence is confirmed, and the node stays off.
      const k = knobs(ctx);
      await k.kill();
      if (!k.mains) throw new Error(`the outlets feeding ${ctx.node} cannot lose mains power in this harness (${power.describe()})`);
      k.mains(false);
      ctx.log.info(`${ctx.node} lost mains power, and its BMC with it; its PDUs, fed apart, still answer (level 2 can fence)`);
      return { ...(cut as object), bmc: 'dead', mains: 'lost' };
    }
    ctx.log.info(`${ctx.node} lost mains power; its PDUs, fed apart, still answer`);
    return cut;
  },
  async heal(ctx) {
    // Power returns: the BMC boots first, then the node is powered on (if its fence has not already done it).
    await knobs(ctx).heal();
    await ensureOn(ctx);
    // What the outage left in the cluster's records: the fence device's monitors failed while its BMC had no power.
    await cleanup(ctx);
  },
  audit, // the lab audit adds every BMC's leftovers (power control, hung, dead)
});
