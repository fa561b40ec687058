/** The cluster's versions read from its nodes for a run (see cluster/versions.ts). */
import { oneLine } from '../core/terminal-text.ts';
import { CLUSTER_PROBES, clusterVersions, parseVersions, versionScript } from '../cluster/versions.ts';
import { mailServiceOf } from '../mail/mail.ts';
import { storeOf } from '../storage/storage.ts';
import type { StartedTarget } from './target.ts';

/** How long one node may take to say its versions. */
export const VERSIONS_TIMEOUT_MS = 20_000;

export interface RunVersions {
  /** One value per component (or each node's, where they differ). */
  cluster: Record<string, string>;
  byNode: Record<string, Record<string, string>>;
}

/**
 * Reads every node's versions at once (bounded): the cluster's, the store's and the mail
 * service's. A node that does not answer reads `unknown`, with the reason logged: a version is
 * context for the trend, never a verdict.
 */
export async function readRunVersions(cluster: Pick<StartedTarget, 'plan' | 'root' | 'log'>, signal?: AbortSignal): Promise<RunVersions> {
  const probes = [...CLUSTER_PROBES, ...storeOf(cluster.plan).versions, ...mailServiceOf(cluster.plan).versions];
  const script = versionScript(probes);
  const byNode: Record<string, Record<string, string>> = {};
  await Promise.all(
    cluster.plan.nodes.map(async (n) => {
      try {
        byNode[n.name] = parseVersions((await cluster.root(n.name, script, VERSIONS_TIMEOUT_MS, signal)).stdout, probes);
      } catch (error) {
        cluster.log.warn(`versions of ${n.name} not read: ${oneLine((error as Error).message).slice(0, 200)}`);
        byNode[n.name] = parseVersions('', probes);
      }
    }),
  );
  return { cluster: clusterVersions(byNode), byNode };
}
