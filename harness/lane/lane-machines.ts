/**
 * The container lane's hold on its nodes, the way the hypervisor holds the lab's VMs: a root shell
 * in each node (`docker exec`), a node's state, pause and resume (a freeze: docker's cgroup
 * freezer stops every process of the node at once), and each NIC's carrier (the host end of the
 * node's veth set down: the node sees NO-CARRIER, its address stays, as with a pulled cable).
 * There is no disk hot-plug and no kernel or clock of the node's own: those faults are not
 * applicable here (see {@link laneTraits}).
 */
import { spawnSync } from 'node:child_process';
import { run, streamLines, type ExecOptions, type StreamOptions } from '../core/exec.ts';
import type { NodeShell } from '../cluster/ssh.ts';
import type { LabPlan, NodePlan } from '../cluster/lab-config.ts';
import type { MachineControl, NicControl, TargetTraits } from '../session/target.ts';
import type { NicRole } from '../cluster/plan.ts';
import type { LabConfig } from '../cluster/lab-config.ts';
import { docker } from './docker-host.ts';

/** The container of each node: `<lane prefix><node>`, e.g. hachaos-containers-node1. */
export function containerOf(plan: LabPlan, node: string): string {
  return nodeOf(plan, node).domain;
}

function nodeOf(plan: LabPlan, name: string): NodePlan {
  const node = plan.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in the container lane`);
  return node;
}

/** A root shell in each node through `docker exec` (no SSH server in the nodes: nothing to key). */
export class DockerShell implements NodeShell {
  constructor(private readonly plan: LabPlan) {}

  root(node: string, script: string, options: Omit<ExecOptions, 'node' | 'input'> & { input?: never }) {
    return run('docker', ['exec', '-i', containerOf(this.plan, node), 'bash', '-s'], { ...options, node, input: script });
  }

  stream(node: string, script: string, onLine: (line: string) => void, options: Omit<StreamOptions, 'input' | 'node'>) {
    return streamLines('docker', ['exec', '-i', containerOf(this.plan, node), 'bash', '-s'], onLine, { ...options, node, input: script });
  }

  copy(node: string, localPath: string, remotePath: string, options: Omit<ExecOptions, 'node'>) {
    return run('docker', ['cp', localPath, `${containerOf(this.plan, node)}:${remotePath}`], { ...options, node });
  }

  async close(): Promise<void> {
    // Nothing is kept open between commands.
  }
}

/** docker's container state in the words the machine findings use (`running` is the one that is up). */
export function machineState(dockerStatus: string): string {
  const s = dockerStatus.trim();
  if (s === 'exited' || s === 'created' || s === 'dead') return 'shut off';
  return s || 'unknown';
}

/** The lane's nodes as machines docker holds. */
export function laneMachines(plan: LabPlan): MachineControl {
  const unsupported = (what: string) => async (): Promise<never> => {
    throw new Error(`the container lane cannot ${what}: a container's disk is not a device that can be unplugged (disk faults are not applicable here)`);
  };
  return {
    async state(node) {
      const r = await docker(['inspect', '-f', '{{.State.Status}}', containerOf(plan, node)], { timeoutMs: 30_000, reject: false, phase: 'machine' });
      return r.ok ? machineState(r.stdout) : `unknown (${r.stderr.trim() || r.reason})`;
    },
    async pause(node) {
      await docker(['pause', containerOf(plan, node)], { timeoutMs: 30_000, phase: 'fault' });
    },
    async resume(node) {
      await docker(['unpause', containerOf(plan, node)], { timeoutMs: 30_000, phase: 'heal' });
    },
    disks: unsupported('list disks'),
    unplugDisk: unsupported('unplug a disk'),
    plugDisk: unsupported('plug a disk'),
  };
}

/** The host's interface whose ifindex is `index` (a veth's host end), from `ip -o link`. Pure. */
export function hostInterfaceByIndex(ipLink: string, index: number): string | undefined {
  for (const line of ipLink.split('\n')) {
    const m = /^(\d+): ([^:@\s]+)(?:@\S+)?:/.exec(line);
    if (m && Number(m[1]) === index) return m[2];
  }
  return undefined;
}

/**
 * NIC loss in the lane: the host end of the node's veth for that network set down. Inside the
 * node the link loses its carrier (NO-CARRIER) and keeps its address, as with a pulled cable; the
 * node's own OS is not told anything else. The veth is looked up at each cut: a node that was
 * power-cycled (killed and started) has new ones.
 */
export function laneNics(plan: LabPlan): NicControl {
  const hostEnd = async (name: string, role: NicRole): Promise<string> => {
    const node = nodeOf(plan, name);
    const nic = node.nic[role];
    const r = await docker(['exec', containerOf(plan, name), 'cat', `/sys/class/net/${nic}/iflink`], { timeoutMs: 30_000, phase: 'nic', node: name });
    const index = Number(r.stdout.trim());
    const links = await run('ip', ['-o', 'link'], { timeoutMs: 10_000, node: 'host', phase: 'nic' });
    const veth = hostInterfaceByIndex(links.stdout, index);
    if (!veth) throw new Error(`${name} ${nic} (${role}): no host interface with index ${index} (its veth's host end)`);
    return veth;
  };
  const set = async (name: string, roles: readonly NicRole[], state: 'up' | 'down', phase: string) => {
    for (const role of roles) await run('ip', ['link', 'set', 'dev', await hostEnd(name, role), state], { timeoutMs: 10_000, node: 'host', phase });
  };
  return {
    method: "carrier cut at the host end of the container's veth (ip link set down: the node sees NO-CARRIER, as with a pulled cable)",
    cut: (node, roles, phase) => set(node, roles, 'down', phase),
    restore: async (node, roles, phase) => {
      // A node that is not running has no veth (it gets new ones, up, when it starts).
      if (machineState((await docker(['inspect', '-f', '{{.State.Status}}', containerOf(plan, node)], { reject: false, phase })).stdout) !== 'running') return;
      await set(node, roles, 'up', phase);
    },
    async leftovers(name, roles) {
      const node = nodeOf(plan, name);
      const out: string[] = [];
      const state = machineState((await docker(['inspect', '-f', '{{.State.Status}}', containerOf(plan, name)], { reject: false, phase: 'audit' })).stdout);
      if (state !== 'running') return out;
      for (const role of roles) {
        const r = await docker(['exec', containerOf(plan, name), 'cat', `/sys/class/net/${node.nic[role]}/carrier`], { timeoutMs: 30_000, reject: false, phase: 'audit' });
        if (!r.ok || r.stdout.trim() !== '1') out.push(`${name} ${node.nic[role]} (${role}): no carrier (${r.ok ? r.stdout.trim() : r.stderr.trim() || r.reason})`);
      }
      return out;
    },
  };
}

let netem: boolean | undefined;
/**
 * Whether the host's kernel (the containers') has tc netem: probed once, in a network namespace of
 * its own (nothing of the host's is touched). This host's kernel has none.
 */
export function hostHasNetem(): boolean {
  if (netem === undefined) {
    const r = spawnSync('unshare', ['--net', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { timeout: 10_000 });
    netem = r.status === 0;
  }
  return netem;
}

/** What faults need to know of the lane: a shared store, docker's pause and veths, its own virtual BMCs; no kernel, clock or disk of a node's own. */
export function laneTraits(config: LabConfig, withNetem = hostHasNetem()): TargetTraits {
  return {
    kind: 'containers',
    storage: config.storage,
    methods: ['hypervisor-nic', 'machine-pause', 'power-device-faults', ...(withNetem ? (['netem'] as const) : [])],
    describe: `container lane ${config.name} (storage ${config.storage}, ${config.fencing.agent})`,
  };
}

/** How the lane does each fault it can do, when that is not what the lab does: written into every run's environment. */
export const LANE_EQUIVALENTS: Record<string, string> = {
  'power cut': "the node's container killed (SIGKILL to every process at once) by its virtual BMC; the host's page cache survives it, so writes the node had not synced are not lost as on a real power cut",
  'hard reset': 'the container killed and started again (a new boot of the same container: its root file system and journal kept)',
  freeze: "docker pause (the cgroup freezer stops every process of the node at once; the host's kernel, timers and network stack go on)",
  'NIC loss': "the host end of the node's veth set down (NO-CARRIER inside the node, its address kept)",
  'shared disk': 'one loop device over an image file on the host, passed into both containers as /dev/vdb; ext4 mounted by Pacemaker on one node at a time. Both mounts would share the host kernel\'s one superblock: a double mount is detected by the single-primary check, but does not corrupt the file system as two machines would',
  'not applicable': 'kernel panic (the kernel is the host\'s), clock jump (the clock is the host\'s), disk death and store path loss (no disk hot-unplug), and the partial disk faults: disk bad sectors, disk write errors, disk dropped writes passive, disk slow, disk hung (no device-mapper of its own: it would be the host\'s)',
};
