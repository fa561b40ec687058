/**
 * The node watcher: polls every node on its own loop (so a dead node never delays the living
 * one) for its DRBD role and whether it holds the virtual IP, stamping each sample with the host
 * clock. Armed before the fault, stopped after the heal. A poll that fails is a sample too
 * (`reachable: false`).
 */
import type { Logger } from '../core/log.ts';
import { sleep } from '../core/wait.ts';
import type { StartedLab } from '../lab/lab.ts';
import { parseProcDrbd } from '../lab/status.ts';
import type { NodeSample } from '../check/observations.ts';

export class NodeWatcher {
  readonly samples: NodeSample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly stopper = new AbortController();

  constructor(
    private lab: StartedLab,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** Points the watcher at a re-attached lab (after `lab.up()` during a heal). */
  retarget(lab: StartedLab): void {
    this.lab = lab;
  }

  start(): void {
    this.running = true;
    this.loops = this.lab.plan.nodes.map((n) => this.watch(n.name));
    this.log.info('watcher armed', { intervalMs: this.intervalMs });
  }

  async stop(): Promise<NodeSample[]> {
    this.running = false;
    this.stopper.abort();
    await Promise.allSettled(this.loops);
    return this.samples;
  }

  private async watch(node: string): Promise<void> {
    const vip = this.lab.plan.virtualIp;
    const script = `cat /proc/drbd; echo "@@vip $(ip -4 -o addr show | grep -c ' ${vip}/')"`;
    while (this.running) {
      const started = performance.now();
      const r = await this.lab.ssh.root(node, script, { timeoutMs: 8000, reject: false, signal: this.stopper.signal });
      const time = Date.now();
      if (!this.running && r.cancelled) break;
      if (r.ok) {
        const drbd = parseProcDrbd(r.stdout);
        this.samples.push({ time, node, reachable: true, drbdRole: drbd.role, holdsVip: /@@vip [1-9]/.test(r.stdout) });
      } else {
        this.samples.push({ time, node, reachable: false });
      }
      const wait = this.intervalMs - (performance.now() - started);
      if (wait > 0) await sleep(wait, this.stopper.signal).catch(() => undefined);
    }
  }
}
