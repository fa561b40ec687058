/**
 * Shards: which scenarios one CI host runs when a certification is spread over `total` hosts
 * (`certify --shard i/n`, or GitLab's CI_NODE_INDEX / CI_NODE_TOTAL). The distributed engine is the
 * CI system; this is only the assignment, the same on every host: deterministic and balanced.
 *
 * Balanced by each scenario's recorded duration where the history has one (longest first, each to
 * the shard with the least work so far: the classic greedy that stays within 4/3 of the best), and
 * by catalogue order otherwise (a scenario without a duration counts as the median of the known
 * ones, or 1 when none is known: equal weights deal the catalogue out in turn).
 */

/** One shard of `total`, 1-based (`2/4` is the second of four). */
export interface Shard {
  index: number;
  total: number;
}

/** The most shards a certification may be spread over. */
export const MAX_SHARDS = 64;

/** Reads `i/n` (the flag's value); the problem in words when it is not one. Pure. */
export function parseShard(value: string): Shard | string {
  const m = /^(\d{1,3})\/(\d{1,3})$/.exec(value.trim());
  if (!m) return `"${value.slice(0, 20)}" is not i/n (e.g. 2/4: the second of four shards)`;
  const index = Number(m[1]);
  const total = Number(m[2]);
  if (total < 1 || total > MAX_SHARDS) return `${total} shards: from 1 to ${MAX_SHARDS}`;
  if (index < 1 || index > total) return `shard ${index} of ${total}: the index runs from 1 to ${total}`;
  return { index, total };
}

/**
 * The shard from the environment when no flag gives one: GitLab's `parallel:` sets CI_NODE_INDEX
 * (1-based) and CI_NODE_TOTAL. Undefined when neither is set; a problem in words when only one is,
 * or they do not make a shard. Pure.
 */
export function shardFromEnv(env: Record<string, string | undefined>): Shard | string | undefined {
  const index = env.CI_NODE_INDEX;
  const total = env.CI_NODE_TOTAL;
  if (index === undefined && total === undefined) return undefined;
  if (index === undefined || total === undefined) return `CI_NODE_INDEX and CI_NODE_TOTAL come together (only ${index === undefined ? 'CI_NODE_TOTAL' : 'CI_NODE_INDEX'} is set)`;
  const parsed = parseShard(`${index}/${total}`);
  return typeof parsed === 'string' ? `CI_NODE_INDEX=${index.slice(0, 10)} CI_NODE_TOTAL=${total.slice(0, 10)}: ${parsed}` : parsed;
}

/** Each scenario's shard (1-based), by name, for `names` in catalogue order. Pure. */
export function assignShards(names: readonly string[], total: number, durations: Readonly<Record<string, number>> = {}): Record<string, number> {
  const known = names.map((n) => durations[n]).filter((d): d is number => d !== undefined && Number.isFinite(d) && d > 0);
  const sorted = [...known].sort((a, b) => a - b);
  const fallback = sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)]! : 1;
  const weight = (name: string) => {
    const d = durations[name];
    return d !== undefined && Number.isFinite(d) && d > 0 ? d : fallback;
  };
  // Longest first; equal weights keep catalogue order.
  const order = names.map((name, position) => ({ name, position, weight: weight(name) })).sort((a, b) => b.weight - a.weight || a.position - b.position);
  const load = Array.from({ length: total }, () => 0);
  const assigned: Record<string, number> = {};
  for (const item of order) {
    let best = 0;
    for (let s = 1; s < total; s++) if (load[s]! < load[best]!) best = s;
    load[best]! += item.weight;
    assigned[item.name] = best + 1;
  }
  return assigned;
}

/** The names of `shard`, in catalogue order. Pure. */
export function scenariosOfShard(names: readonly string[], shard: Shard, durations: Readonly<Record<string, number>> = {}): string[] {
  const assigned = assignShards(names, shard.total, durations);
  return names.filter((n) => assigned[n] === shard.index);
}
