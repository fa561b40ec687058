/**
 * The lab's facts, read from the cluster itself: Pacemaker's view (`crm_mon --output-as=xml`),
 * DRBD's (`/proc/drbd`, the DRBD 8.4 kernel module's status), the virtual IP's holder, and
 * whether SMTP and IMAP answer on the virtual IP. Parsers are pure and unit-tested on literal
 * output; `readiness` says which readiness condition is not met, in words.
 */
import { XMLParser } from 'fast-xml-parser';

export interface PacemakerNode {
  name: string;
  online: boolean;
  standby: boolean;
  unclean: boolean;
  isDc: boolean;
}

export interface PacemakerResource {
  id: string;
  agent: string;
  role: string;
  active: boolean;
  failed: boolean;
  /** Pacemaker will not act on it (e.g. a failed stop it cannot fence its way out of). */
  blocked: boolean;
  managed: boolean;
  /** Nodes it runs on. */
  nodes: string[];
  /** Parent group or clone id, if any. */
  parent?: string;
  /** An operation Pacemaker has started and not finished (`Starting`, `Stopping`, `Monitoring`...), when it records pending ones. */
  pending?: string;
}

export interface PacemakerFailure {
  /** The operation key, e.g. `smtp_start_0`. */
  op: string;
  /** The resource (from the operation key). */
  resource: string;
  /** start, stop, monitor, promote... */
  task: string;
  node: string;
  exitReason: string;
  /** The execution status, e.g. `Timed Out`, `complete`. */
  status: string;
  /** The agent's exit status in words, e.g. `error`, `not running`. */
  exitStatus: string;
}

/** A resource's fail-count on a node (Pacemaker's node history); 1000000 is INFINITY. */
export interface FailCount {
  resource: string;
  node: string;
  count: number;
}

/** Pacemaker's INFINITY. */
export const INFINITY = 1_000_000;

export interface PacemakerView {
  dc?: string;
  /** The DC's controller state (`S_IDLE` when it has nothing to do), when it was read. */
  dcState?: string;
  nodes: PacemakerNode[];
  resources: PacemakerResource[];
  failures: PacemakerFailure[];
  failCounts: FailCount[];
  /** Each node's attributes as the CIB holds them (crm_mon --show-node-attributes); absent when not read. */
  nodeAttributes?: Record<string, Record<string, string>>;
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['node', 'resource', 'failure', 'group', 'clone', 'resource_history'].includes(name) });

type XmlNode = Record<string, unknown>;
const arr = (v: unknown): XmlNode[] => (Array.isArray(v) ? (v as XmlNode[]) : v ? [v as XmlNode] : []);
const bool = (v: unknown) => v === 'true';

function resourcesOf(container: XmlNode, parent?: string): PacemakerResource[] {
  const own = arr(container.resource).map((r) => ({
    id: String(r.id),
    agent: String(r.resource_agent ?? ''),
    role: String(r.role ?? ''),
    active: bool(r.active),
    failed: bool(r.failed),
    blocked: bool(r.blocked),
    managed: r.managed === undefined ? true : bool(r.managed),
    nodes: arr(r.node).map((n) => String(n.name)),
    parent,
    ...(r.pending !== undefined ? { pending: String(r.pending) } : {}),
  }));
  const nested = [...arr(container.group), ...arr(container.clone)].flatMap((g) => resourcesOf(g, String(g.id)));
  return [...own, ...nested];
}

/** How the harness asks Pacemaker for its view: the one crm_mon command line, parsed by {@link parseCrmMon}. */
export const CRM_MON_XML = 'crm_mon -1 --output-as=xml --inactive --show-node-attributes';

/** Parses {@link CRM_MON_XML}'s output. */
export function parseCrmMon(text: string): PacemakerView {
  const doc = xml.parse(text) as XmlNode;
  const root = (doc['pacemaker-result'] ?? doc.crm_mon) as XmlNode | undefined;
  if (!root) throw new Error('crm_mon output is not pacemaker-result XML');
  const nodes = arr((root.nodes as XmlNode | undefined)?.node).map((n) => ({
    name: String(n.name),
    online: bool(n.online),
    standby: bool(n.standby),
    unclean: bool(n.unclean),
    isDc: bool(n.is_dc),
  }));
  const failures = arr((root.failures as XmlNode | undefined)?.failure).map((f) => {
    const op = String(f.op_key ?? f.task ?? '');
    const task = String(f.task ?? /_([a-z_-]+)_\d+$/.exec(op)?.[1] ?? '');
    return {
      op,
      resource: op.replace(/_[a-z_-]+_\d+$/, ''),
      task,
      node: String(f.node ?? ''),
      exitReason: String(f.exitreason ?? ''),
      status: String(f.status ?? ''),
      exitStatus: String(f.exitstatus ?? ''),
    };
  });
  const failCounts = arr((root.node_history as XmlNode | undefined)?.node).flatMap((n) =>
    arr(n.resource_history)
      .filter((h) => h['fail-count'] !== undefined)
      .map((h) => ({ resource: String(h.id), node: String(n.name), count: Number(h['fail-count']) })),
  );
  const attributesSection = root.node_attributes as XmlNode | undefined;
  const nodeAttributes =
    attributesSection === undefined
      ? undefined
      : Object.fromEntries(arr(attributesSection?.node).map((n) => [String(n.name), Object.fromEntries(arr(n.attribute).map((a) => [String(a.name), String(a.value)]))]));
  return { dc: nodes.find((n) => n.isDc)?.name, nodes, resources: resourcesOf((root.resources as XmlNode | undefined) ?? {}), failures, failCounts, ...(nodeAttributes ? { nodeAttributes } : {}) };
}

export interface DrbdState {
  /** Connection state, e.g. Connected, WFConnection, StandAlone, Unconfigured. */
  cs: string;
  role: string;
  peerRole: string;
  disk: string;
  peerDisk: string;
  /** Out of sync, KiB. */
  outOfSyncKiB: number;
}

/** Everything `lab status` reports. */
export interface ClusterStatus {
  lab: string;
  accel: string;
  virtualIp: string;
  pacemaker?: PacemakerView;
  pacemakerError?: string;
  /** Nodes that did not answer, and why: nothing else was read from them. */
  unreachable?: Record<string, string>;
  /** Each node's DRBD state (a DRBD store only: the storage seam reads it). */
  drbd?: Record<string, DrbdState>;
  vipHolders: string[];
  /** Each node's power as its device reports it (BMC, or PDU outlets: on when any outlet feeding it is on). */
  power: Record<string, string>;
  /** The architecture under test: the store (drbd, shared) and each node's power device in words. */
  architecture?: { storage: string; power: Record<string, string>; nicFaults?: string };
  smtp: { ok: boolean; detail: string };
  imap: { ok: boolean; detail: string };
  /** Location constraints DRBD's fence-peer handler placed (the storage seam reads them) and its unfence handler has not removed yet. */
  drbdFenceConstraints?: string[];
  /** Whether the mail store is mounted, per node (findmnt; the storage seam reads it). */
  storeMounted?: Record<string, boolean>;
}

/** The controller state in `crmadmin -S <dc>` output (`S_IDLE`, `S_TRANSITION_ENGINE`...); undefined when there is none. Pure. */
export function parseDcState(text: string): string | undefined {
  return /\b(S_[A-Z_]+)\b/.exec(text)?.[1];
}

/** Roles that are an operation under way, not a state (when Pacemaker records pending operations). */
const TRANSIENT_ROLES = /^(Starting|Stopping|Promoting|Demoting|Migrating)$/;

/** Stonith resources that power a node off (a heuristic device only decides, it fences nobody). */
export function isPowerFenceResource(r: PacemakerResource): boolean {
  return r.agent.startsWith('stonith:') && !/^stonith:fence_heuristics_/.test(r.agent);
}

/**
 * A view's shape for "two reads agree": nodes and their state, every resource's role, where it
 * runs and whether it failed, and the failed operations. Pure.
 */
export function viewSignature(pm: PacemakerView): string {
  return JSON.stringify({
    nodes: pm.nodes.map((n) => [n.name, n.online, n.standby, n.unclean]),
    resources: pm.resources.map((r) => [r.id, r.role, r.active, r.failed, r.blocked, [...r.nodes].sort()]),
    failures: pm.failures.map((f) => f.op + f.node),
  });
}

/** Agents of the connectivity clone: it runs on both nodes, and is not the mail service. */
const CONNECTIVITY_AGENTS = ['ocf:pacemaker:ping', 'ocf:hachaos:clientping'];

/** The node attribute the connectivity agents set (their default `name`), which the mail service's location rule reads. */
export const CONNECTIVITY_ATTRIBUTE = 'pingd';

/**
 * Nodes where the connectivity clone runs but its attribute is not in the CIB: a location rule on
 * it (`not_defined pingd or pingd lte 0`) bans the mail service from that node, so the service
 * could not fail over there. Pacemaker leaves a node this way when its controller respawns: the
 * DC erases the node's transient attributes, and pacemaker-attrd, whose value did not change,
 * never writes them again (ClusterLabs/pacemaker#1693). Seen in the container lane: after
 * kill-pacemaker-controller-active on node2, the next power cut of node1 fenced it and left the
 * service down. Pure.
 */
export function missingConnectivity(pm: PacemakerView): string[] {
  if (!pm.nodeAttributes) return [];
  return pm.nodes
    .filter((n) => n.online)
    .filter((n) => pm.resources.some((r) => CONNECTIVITY_AGENTS.includes(r.agent) && r.active && !r.failed && r.nodes.includes(n.name)))
    .filter((n) => pm.nodeAttributes![n.name]?.[CONNECTIVITY_ATTRIBUTE] === undefined)
    .map((n) => `${n.name} cannot take the mail service over: its connectivity attribute ${CONNECTIVITY_ATTRIBUTE} is not in the CIB although the connectivity clone runs there (a rule on it bans the service from the node; Pacemaker loses a node's transient attributes when its controller respawns: run attrd_updater --refresh on ${n.name})`);
}

/** What readiness asks of the store (the storage seam's StoreBackend has it): its own unmet conditions, and which resources are its. */
export interface StoreReadiness {
  unmet(status: ClusterStatus, nodes: readonly string[]): string[];
  isStoreResource(id: string): boolean;
}

/** The readiness conditions `lab up` waits for, the store's (`store`, from the storage seam) included; returns the unmet ones, in words. */
export function unmetReadiness(status: ClusterStatus, nodeNames: string[], store: StoreReadiness): string[] {
  const unmet: string[] = [];
  const pm = status.pacemaker;
  if (!pm) {
    unmet.push(`Pacemaker not answering (${status.pacemakerError ?? 'no reply'})`);
  } else {
    const offline = nodeNames.filter((n) => !pm.nodes.find((x) => x.name === n)?.online);
    if (offline.length) unmet.push(`node(s) not online: ${offline.join(', ')}`);
    // Heuristic devices fence nobody: only power devices count (each node's own is checked by verifyFencing).
    const fences = pm.resources.filter(isPowerFenceResource);
    if (fences.length < nodeNames.length || fences.some((r) => !r.active || r.failed)) {
      unmet.push(`power fence devices not all started (${fences.map((r) => `${r.id}:${r.role}`).join(', ') || 'none configured'})`);
    }
    // Settled: no operation under way, the DC idle. A read taken while devices restart after a cleanup is not "ready".
    // A recurring monitor in flight (`pending="Monitoring"`) is the steady state, not a change under way.
    const pending = pm.resources.filter((r) => TRANSIENT_ROLES.test(r.pending ?? '') || TRANSIENT_ROLES.test(r.role));
    if (pending.length) unmet.push(`operations under way: ${pending.map((r) => `${r.id} ${r.pending ?? r.role}`).join(', ')}`);
    if (pm.dcState !== undefined && pm.dcState !== 'S_IDLE') unmet.push(`the DC${pm.dc ? ` (${pm.dc})` : ''} is not idle (${pm.dcState}): a transition is under way`);
    if (!pm.dc) unmet.push('no DC elected');
    // The mail service's resources; the store's (a DRBD clone) and the connectivity clone run on both nodes.
    const service = pm.resources.filter((r) => !r.agent.startsWith('stonith:') && !store.isStoreResource(r.id) && !CONNECTIVITY_AGENTS.includes(r.agent));
    const notStarted = service.filter((r) => !r.active || r.failed);
    if (service.length === 0) unmet.push('no mail resources configured');
    else if (notStarted.length) unmet.push(`resources not started: ${notStarted.map((r) => r.id).join(', ')}`);
    const hosts = new Set(service.flatMap((r) => r.nodes));
    if (hosts.size > 1) unmet.push(`mail resources split over ${[...hosts].join(' and ')}`);
    if (pm.failures.length) unmet.push(`failed actions: ${pm.failures.map((f) => `${f.task} of ${f.resource} on ${f.node}`).join(', ')}`);
    unmet.push(...missingConnectivity(pm));
  }
  unmet.push(...store.unmet(status, nodeNames));
  if (status.vipHolders.length !== 1) unmet.push(`virtual IP ${status.virtualIp} held by ${status.vipHolders.length} nodes (want 1)`);
  for (const [n, p] of Object.entries(status.power)) if (p !== 'on') unmet.push(`power device of ${n} reports power ${p}`);
  if (!status.smtp.ok) unmet.push(`SMTP on ${status.virtualIp}:25 not answering (${status.smtp.detail})`);
  if (!status.imap.ok) unmet.push(`IMAP on ${status.virtualIp}:143 not answering (${status.imap.detail})`);
  return unmet;
}

/**
 * A state that cannot resolve by itself: Pacemaker keeps a failed action until someone cleans it
 * up (this lab sets no failure-timeout, so a run's failures stay visible to its audits), a
 * fail-count of INFINITY bans the resource from that node for good, and a blocked resource is
 * left alone. Waiting longer changes nothing: a wait ends at once with what, where and the fix.
 */
export interface Wedge {
  resource: string;
  node?: string;
  /** The operation that failed, if one did. */
  task?: string;
  /** In words, with the agent's own message. */
  why: string;
  /** The command that clears it (once its cause is understood). */
  fix: string;
}

/**
 * How long a DRBD connection may stay StandAlone before it is a wedge: `drbdadm adjust` changing a
 * net option passes through it for a moment; one that lasts is DRBD waiting for an operator.
 */
export const DRBD_STANDALONE_WEDGE_MS = 30_000;

/**
 * The store's wedges: a DRBD resource StandAlone on a node for `DRBD_STANDALONE_WEDGE_MS` or more
 * (`standAloneSince`: when each node was first read StandAlone, host clock). DRBD 8.4 goes
 * StandAlone after a split brain it may not resolve by itself, a protocol error, or a resync it
 * refuses ("I shall become SyncTarget, but I am primary!"), and never reconnects by itself (DRBD
 * 8.4 user's guide, "Manual split brain recovery"): waiting longer changes nothing. `resource` is
 * the DRBD resource's name. Pure.
 */
export function storeWedges(drbd: Record<string, DrbdState> | undefined, standAloneSince: ReadonlyMap<string, number>, now: number, resource: string): Wedge[] {
  return Object.entries(drbd ?? {})
    .filter(([node, s]) => s.cs === 'StandAlone' && now - (standAloneSince.get(node) ?? now) >= DRBD_STANDALONE_WEDGE_MS)
    .map(([node, s]) => ({
      resource: `drbd:${resource}`,
      node,
      why: `DRBD on ${node} is StandAlone (${s.role}, disk ${s.disk}) for ${Math.round((now - standAloneSince.get(node)!) / 1000)} s: it does not reconnect by itself (its journal says why: a split brain, or a resync it refused)`,
      fix: `choose the copy to discard; on that node: drbdadm secondary ${resource} && drbdadm connect --discard-my-data ${resource}; on the other: drbdadm connect ${resource} (DRBD user's guide, manual split brain recovery); then: crm resource cleanup`,
    }));
}

/** The wedges in a Pacemaker view, one per failed operation or blocked resource. Pure. */
export function wedges(pm: PacemakerView): Wedge[] {
  const found: Wedge[] = [];
  for (const f of pm.failures) {
    const count = pm.failCounts.find((c) => c.resource === f.resource && c.node === f.node)?.count;
    const banned = count !== undefined && count >= INFINITY ? `; fail-count INFINITY on ${f.node}: it will not run there again until cleaned up` : count ? `; fail-count ${count} on ${f.node}` : '';
    const said = f.exitReason ? `: "${f.exitReason}"` : '';
    const running = pm.resources.some((r) => r.id === f.resource && r.active && !r.failed);
    found.push({
      resource: f.resource,
      node: f.node,
      task: f.task,
      why: `${f.task} of ${f.resource} on ${f.node} failed (${[f.status, f.exitStatus].filter(Boolean).join(', ')}${said})${banned}${running ? `; ${f.resource} runs again, but the failed action stays until it is cleaned up` : ''}`,
      fix: `crm resource cleanup ${f.resource} ${f.node}`,
    });
  }
  for (const r of pm.resources.filter((x) => x.blocked)) {
    if (found.some((w) => w.resource === r.id)) continue;
    found.push({ resource: r.id, why: `${r.id} is blocked (Pacemaker will not act on it, e.g. after a stop failed)`, fix: `crm resource cleanup ${r.id}` });
  }
  return found;
}
