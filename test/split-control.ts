/**
 * Shared by the lab tier and the container lane tier: the negative control of the single-primary
 * check.
 */
import type { Logger } from '../harness/core/log.ts';
import { done, notYet, waitFor } from '../harness/core/wait.ts';
import type { NodeSample, Observations } from '../harness/check/observations.ts';
import { singlePrimary } from '../harness/check/single-primary.ts';
import { heartbeatLossActive } from '../harness/faults/node-faults.ts';
import { measureOffset } from '../harness/observe/clock.ts';
import { NodeWatcher } from '../harness/observe/watcher.ts';
import { SCENARIOS } from '../harness/scenario/catalog.ts';
import type { StartedTarget } from '../harness/session/target.ts';

/**
 * Fencing switched off, then both heartbeat rings of the active node cut: with nothing to guard
 * it, the shared store must end up mounted on both nodes, and the single-primary check must say
 * so. Heals and switches fencing back on whatever happens. Resolves the check's verdict.
 */
export async function splitWithoutFencing(v: StartedTarget, log: Logger, onWarn: (line: string) => void): Promise<{ valid: boolean | 'unknown'; summary: string }> {
  const active = (await v.status()).vipHolders[0]!;
  const offsets = Object.fromEntries(await Promise.all(v.plan.nodes.map(async (n) => [n.name, await measureOffset(v, n.name)] as const)));
  await v.root(active, 'crm_attribute --type crm_config --name stonith-enabled --update false', 60_000);
  const watcher = new NodeWatcher(v, offsets, log);
  const ctx = { target: v, node: active, log };
  let samples: NodeSample[];
  try {
    await watcher.start();
    await heartbeatLossActive.inject(ctx);
    await waitFor(
      'the shared store mounted on both nodes (no fencing guards it)',
      async () => {
        const last = new Map(watcher.samples().filter((s) => s.reachable).map((s) => [s.node, s.storeMounted]));
        return [...last.values()].filter(Boolean).length === 2 ? done(true) : notYet(JSON.stringify(Object.fromEntries(last)));
      },
      { timeoutMs: 5 * 60_000, intervalMs: 2000 },
    );
  } finally {
    await heartbeatLossActive.heal(ctx);
    samples = await watcher.stop();
    const on = await v.ssh.root(active, 'crm_attribute --type crm_config --name stonith-enabled --update true', { timeoutMs: 60_000, reject: false });
    if (!on.ok) onWarn(`could not switch fencing back on (${on.reason}); the target is removed next`);
  }
  return singlePrimary.check({ scenario: SCENARIOS['heartbeat-loss-active']!, history: [], observations: { samples, powerLog: [], store: 'shared' } as unknown as Observations });
}

