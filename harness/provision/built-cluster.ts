/**
 * What the lab and the container lane share once their machines run: provisioning from the
 * rendered files, the cluster's bootstrap, the mail package, the lab's secrets.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/log.ts';
import { withProgress } from '../core/progress.ts';
import { done, notYet, waitFor } from '../core/wait.ts';
import type { LabConfig, LabPlan, LabSecrets } from '../cluster/lab-config.ts';
import type { NodeShell } from '../cluster/ssh.ts';
import { AXIGEN_PACKAGE_ON_NODE, axigenAdminPassword } from '../mail/axigen.ts';
import { mailServiceOf } from '../mail/mail.ts';
import type { NodePower } from '../power/power-device.ts';
import { ClusterSession } from '../session/cluster-session.ts';
import type { MachineControl, StartedTarget } from '../session/target.ts';
import { storeOf } from '../storage/storage.ts';
import { provisionHash, renderCibLoad, renderCibMerge, renderCibOffline, renderClusterStart, renderNodeProvision, renderStoreLayout } from './provision.ts';

/** What a built cluster needs of whoever made its machines: the plan, its config, a log. */
export interface BuiltClusterOwner {
  readonly plan: LabPlan;
  readonly config: LabConfig;
  readonly log: Logger;
}

/**
 * A cluster the harness built from a lab config and runs the power devices of: the lab's VMs
 * (lab/lab.ts: StartedLab) or the container lane's containers (lane/container-lane.ts:
 * StartedLane). Both provision their nodes the same way, from the same rendered files, and
 * differ only in what holds the machines (traits, NIC control, machine control).
 */
export abstract class StartedBuiltCluster extends ClusterSession {
  constructor(
    /** Whoever made the machines: the lab, or the container lane. */
    readonly owner: BuiltClusterOwner,
    readonly accel: StartedTarget['accel'],
    /** Each node's power device(s), in node order. */
    readonly power: NodePower[],
    readonly ssh: NodeShell,
    private readonly secrets: LabSecrets,
  ) {
    super();
  }

  get plan(): LabPlan {
    return this.owner.plan;
  }
  get log(): Logger {
    return this.owner.log;
  }

  /** The test accounts and their passwords (registered secrets). */
  accounts(): Record<string, string> {
    return { ...this.secrets.accounts };
  }

  /** Every secret of the lab (power devices' password, corosync key, account passwords): for tests that prove none leaks. */
  secretValues(): string[] {
    return [this.secrets.bmcPassword, this.secrets.corosyncKey, ...Object.values(this.secrets.accounts), ...(this.owner.config.mail.package ? [axigenAdminPassword(this.secrets)] : [])];
  }

  /** The machines' control (the hypervisor's, or docker's): a built cluster always has one. */
  abstract override readonly machines: MachineControl;
  /** What holds a node, in words (`VM`, `container`). */
  protected abstract readonly machineWord: string;

  /** A machine that is not running: nothing in the cluster would start it. */
  protected async machineFindings(): Promise<string[]> {
    const found: string[] = [];
    for (const node of this.plan.nodes) {
      const state = await this.machines.state(node.name);
      if (state !== 'running') found.push(`${node.name}'s ${this.machineWord} is ${state}: nothing in the cluster would start it`);
    }
    return found;
  }

  /** Copies the user's mail package to every node where it is missing or differs (by SHA-256), bounded. */
  async copyPackage(file: string, signal?: AbortSignal): Promise<void> {
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    await Promise.all(
      this.plan.nodes.map(async (node) => {
        const there = await this.root(node.name, `sha256sum ${AXIGEN_PACKAGE_ON_NODE} 2>/dev/null | cut -d' ' -f1`, 30_000, signal);
        if (there.stdout.trim() === sha) return;
        await this.root(node.name, `install -d "$(dirname ${AXIGEN_PACKAGE_ON_NODE})"`, 30_000, signal);
        await withProgress(this.log, `copy ${file} to ${node.name}`, () => this.ssh.copy(node.name, file, AXIGEN_PACKAGE_ON_NODE, { timeoutMs: 600_000, signal, log: this.log }));
      }),
    );
  }

  /** Provisions nodes whose provisioning is missing or stale, then bootstraps the cluster once; resolves true if it bootstrapped now. */
  async provision(signal?: AbortSignal): Promise<boolean> {
    const hash = provisionHash(this.plan);
    const fresh: string[] = [];
    await Promise.all(
      this.plan.nodes.map(async (node) => {
        const check = await this.root(node.name, `cat /etc/ha-chaos/provisioned 2>/dev/null || true`, 30_000, signal);
        if (check.stdout.trim() === hash) return;
        await withProgress(this.log, `provision ${node.name}`, () => this.root(node.name, renderNodeProvision(this.plan, node, this.secrets), 300_000, signal));
        fresh.push(node.name);
      }),
    );
    const [first] = this.plan.nodes;
    const bootstrapped = (await this.root(first!.name, 'test -f /etc/ha-chaos/bootstrapped && echo yes || true', 30_000, signal)).stdout.trim() === 'yes';
    if (!bootstrapped) {
      await withProgress(this.log, 'cluster bootstrap', () => this.bootstrap(signal));
      return true;
    } else {
      // After a fencing with start-on-boot off, a node's cluster stack stays down: start it.
      await Promise.all(this.plan.nodes.map((n) => this.root(n.name, 'systemctl is-active -q pacemaker || systemctl start corosync pacemaker', 180_000, signal)));
      if (fresh.length) {
        // The rendered configuration changed under a running lab: apply it where it lives.
        this.log.info(`the lab's configuration changed: re-provisioned ${fresh.join(', ')}; reloading the CIB and the running mail services`);
        const storeReload = storeOf(this.plan).reloadScript();
        if (storeReload) await Promise.all(fresh.map((n) => this.root(n, storeReload, 60_000, signal)));
        await this.root(first!.name, renderCibLoad(this.plan), 300_000, signal);
        await Promise.all(fresh.map((n) => this.root(n, mailServiceOf(this.plan).reloadScript(), 60_000, signal)));
      }
    }
    return false;
  }

  private async bootstrap(signal?: AbortSignal): Promise<void> {
    const nodes = this.plan.nodes.map((n) => n.name);
    const [first] = nodes as [string, string];
    const second = nodes[1]!;
    // The store first (DRBD, or a shared disk): made, laid out, and left to Pacemaker. Meanwhile
    // node2 renders the resource configuration offline (crmsh: ~25 s of an emulated CPU).
    const [, configuration] = await Promise.all([
      storeOf(this.plan).bootstrap({
        plan: this.plan,
        root: async (node, script, timeoutMs) => this.root(node, script, timeoutMs, signal),
        layout: renderStoreLayout(this.plan).join('\n'),
        signal,
      }),
      this.ssh.root(second, renderCibOffline(this.plan), { timeoutMs: 300_000, signal, log: this.log, phase: 'ssh' }),
    ]);
    await Promise.all(nodes.map((n) => this.root(n, renderClusterStart(this.plan), 300_000, signal)));
    await waitFor(
      'both nodes online in Pacemaker',
      async () => {
        const view = await this.pacemakerView(first, signal);
        const online = view.nodes.filter((n) => n.online).map((n) => n.name);
        return online.length === nodes.length ? done(true) : notYet(`online: ${online.join(', ') || 'none'}`);
      },
      { timeoutMs: 300_000, intervalMs: 2000, signal },
    );
    await this.root(first, renderCibMerge(this.plan, configuration.stdout), 120_000, signal);
  }

}
