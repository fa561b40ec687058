/**
 * The cluster's own versions (kernel, Pacemaker, Corosync, and each seam's: DRBD, the mail
 * service), read from the nodes for every run, so a trend can be filtered by them and a slower
 * failover matched to an upgrade. Each probe is a fixed command of the harness's (never a value
 * from a file) printing the version on its first line.
 */

/** One version to read on a node: `command` prints it on its first line. */
export interface VersionProbe {
  /** A short lowercase name: `kernel`, `pacemaker`, `drbd`. */
  name: string;
  command: string;
}

/** What any two-node Pacemaker cluster runs, whatever its seams. */
export const CLUSTER_PROBES: readonly VersionProbe[] = [
  { name: 'kernel', command: 'uname -r' },
  // "Pacemaker 2.1.5"
  { name: 'pacemaker', command: "pacemakerd --version | sed -n '1s/^Pacemaker //p'" },
  // "Corosync Cluster Engine, version '3.1.7'"
  { name: 'corosync', command: `corosync -v | sed -n "1s/.*version '\\([^']*\\)'.*/\\1/p"` },
];

/** The longest version kept; anything longer is cut (a node's output is not trusted to be short). */
export const MAX_VERSION_LENGTH = 64;

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * The node script: one `name=version` line per probe, whatever fails (a missing program prints
 * `name=`). Every reader reads its input to the end (`sed -n 1p`, never `head`): no early exit on a pipe.
 */
export function versionScript(probes: readonly VersionProbe[]): string {
  for (const p of probes) if (!NAME.test(p.name)) throw new Error(`version probe name "${p.name}" is not a short lowercase name`);
  return probes.map((p) => `printf '%s=' ${p.name}; { ${p.command}; } 2>/dev/null | sed -n 1p | tr -cd '[:print:]'; echo`).join('\n') + '\ntrue\n';
}

/** A node's versions from the script's output: each probe's value, `unknown` where none was printed. Pure. */
export function parseVersions(output: string, probes: readonly VersionProbe[]): Record<string, string> {
  const seen = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^([a-z][a-z0-9-]{0,31})=(.*)$/.exec(line);
    if (m && !seen.has(m[1]!)) seen.set(m[1]!, m[2]!.replace(/[^\x20-\x7e]/g, '').trim().slice(0, MAX_VERSION_LENGTH));
  }
  return Object.fromEntries(probes.map((p) => [p.name, seen.get(p.name) || 'unknown']));
}

/**
 * The cluster's versions from each node's: the one value where the nodes agree, else each node's
 * (`node1 2.1.5, node2 2.1.6`: a rolling upgrade half done is worth seeing). Pure.
 */
export function clusterVersions(byNode: Readonly<Record<string, Readonly<Record<string, string>>>>): Record<string, string> {
  const nodes = Object.keys(byNode).sort();
  const names = [...new Set(nodes.flatMap((n) => Object.keys(byNode[n]!)))].sort();
  return Object.fromEntries(
    names.map((name) => {
      const values = nodes.map((n) => byNode[n]![name] ?? 'unknown');
      return [name, new Set(values).size === 1 ? values[0]! : nodes.map((n, i) => `${n} ${values[i]}`).join(', ')];
    }),
  );
}
