/**
 * Faults through the node's BMC, behind the cluster's back: a power cut (chassis power off) and
 * a hard reset. The cluster must notice, fence the node and take over. Heal: power on if the
 * node is still off (normally the cluster's fence has already power-cycled it).
 */
import type { Fault, FaultContext } from './fault.ts';

async function ensureOn(ctx: FaultContext): Promise<void> {
  const bmc = ctx.lab.bmc(ctx.node);
  if ((await bmc.targetPower()) === 'off') {
    ctx.log.info(`heal: ${ctx.node} is still off; powering it on through its BMC`);
    const r = await bmc.client().power('on');
    if (r.state !== 'on') throw new Error(`heal: could not power ${ctx.node} on: ${r.error?.message ?? r.state}`);
  }
}

async function audit(ctx: FaultContext): Promise<string[]> {
  const bmc = ctx.lab.bmc(ctx.node);
  const left: string[] = [];
  if ((await bmc.targetPower()) !== 'on') left.push(`${ctx.node} is powered off`);
  if (!bmc.isRunning()) left.push(`the BMC of ${ctx.node} is not running`);
  return left;
}

async function powerAction(ctx: FaultContext, action: 'off' | 'reset'): Promise<unknown> {
  const result = await ctx.lab.bmc(ctx.node).client().power(action);
  if (!result.acknowledged) throw new Error(`power ${action} of ${ctx.node} not acknowledged: ${result.error?.message}`);
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
