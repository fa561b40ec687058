/**
 * What every started target does the same way, whoever built the cluster: read its status over
 * SSH (crm_mon, the store, the virtual IP, the mail service through the virtual IP), wait until it
 * is ready, clear failure records once (recorded), and observe convergence after a heal without
 * repairing anything. The lab and an existing cluster each extend it with what only they have:
 * the hypervisor's view of a machine, or the real power devices' view.
 */
import type { Logger } from '../core/log.ts';
import { withProgress } from '../core/progress.ts';
import { done, notYet, StopWaiting, waitFor, WaitTimeoutError } from '../core/wait.ts';
import { readGreeting } from '../cluster/greeting.ts';
import type { NodeShell } from '../cluster/ssh.ts';
import { CRM_MON_XML, isPowerFenceResource, parseCrmMon, parseDcState, storeWedges, unmetReadiness, viewSignature, wedges, type ClusterStatus, type PacemakerView, type Wedge } from '../cluster/status.ts';
import { verifyFencing, type FencingVerification } from '../power/fence-verify.ts';
import { powerLosses } from '../power/power-log.ts';
import type { FenceDeviceSpec } from '../power/fence-resources.ts';
import type { NodePower } from '../power/power-device.ts';
import { storeOf } from '../storage/storage.ts';
import { DRBD_RESOURCE } from '../storage/drbd-proc.ts';
import { mailServiceOf } from '../mail/mail.ts';
import { describeMailError, listInbox } from '../workload/mail-client.ts';
import type { Architecture, Convergence, MachineControl, NicControl, StartedTarget, TargetTraits } from './target.ts';
import type { ClusterPlan } from '../cluster/plan.ts';

/** How long a machine finding must last before convergence judges it (a VM just powered on starts paused). */
export const MACHINE_SETTLE_MS = 30_000;

export abstract class ClusterSession implements StartedTarget {
  abstract readonly traits: TargetTraits;
  abstract readonly plan: ClusterPlan;
  abstract readonly ssh: NodeShell;
  abstract readonly power: NodePower[];
  abstract readonly accel: StartedTarget['accel'];
  abstract readonly nics: NicControl;
  readonly machines?: MachineControl;
  abstract readonly log: Logger;
  abstract accounts(): Record<string, string>;
  abstract secretValues(): string[];
  preflight?: Record<string, unknown>;

  /**
   * What only this target can see that would keep the cluster from converging by itself, before
   * anything waits: a VM that is off (the lab), a machine its power device reports off (hardware).
   */
  protected abstract machineFindings(): Promise<string[]>;

  /**
   * {@link machineFindings} that last: a machine a heal just powered on may be seen paused or
   * starting for a moment (QEMU starts a VM paused, then runs it), so a finding counts only when it
   * is still there after {@link MACHINE_SETTLE_MS} (re-read every 2 s; empty at once when none).
   */
  protected machineSettleMs = MACHINE_SETTLE_MS;

  protected async settledMachineFindings(signal?: AbortSignal): Promise<string[]> {
    let last: string[] = [];
    try {
      await waitFor(
        'every machine running (one just powered on may still be starting)',
        async () => {
          last = await this.machineFindings();
          return last.length ? notYet(last.join('; ')) : done(true);
        },
        { timeoutMs: this.machineSettleMs, intervalMs: Math.min(2000, this.machineSettleMs / 4), signal },
      );
      return [];
    } catch (error) {
      if (error instanceof WaitTimeoutError) return last;
      throw error;
    }
  }

  /** The unmet readiness conditions in `status`, the store's included (see status.ts). */
  unmet(status: ClusterStatus): string[] {
    return unmetReadiness(status, this.plan.nodes.map((n) => n.name), storeOf(this.plan));
  }

  /** The power device(s) of `node`. */
  powerOf(node: string): NodePower {
    const power = this.power.find((p) => p.node === node);
    if (!power) throw new Error(`no power device for ${node}`);
    return power;
  }

  /** The architecture in words, for status and reports: which storage, which power devices, how NICs are cut. */
  architecture(): Architecture {
    return { storage: this.plan.storage, power: Object.fromEntries(this.power.map((p) => [p.node, p.describe()])), nicFaults: this.nics.method, ...(this.equivalents ? { equivalents: this.equivalents } : {}) };
  }

  /** Faults done by an equivalent on this target, in words (the container lane's); none elsewhere. */
  protected equivalents?: Record<string, string>;

  /** Runs a bash script as root on a node. */
  async root(node: string, script: string, timeoutMs = 120_000, signal?: AbortSignal) {
    const result = await this.ssh.root(node, script, { timeoutMs, signal, log: this.log, phase: 'ssh' });
    const output = `${result.stdout}\n${result.stderr}`.trim();
    if (output) this.log.debug(`${node} output:\n${output}`);
    return result;
  }

  /** Pacemaker's view from one node (crm_mon); throws when the node or Pacemaker does not answer. */
  async pacemakerView(node: string, signal?: AbortSignal): Promise<PacemakerView> {
    return parseCrmMon((await this.root(node, CRM_MON_XML, 30_000, signal)).stdout);
  }

  /** Reads every fact `lab status` reports. Never throws for an unreachable part: it says so. */
  async status(): Promise<ClusterStatus> {
    const vip = this.plan.virtualIp;
    const store = storeOf(this.plan);
    const script = `echo '@@crm'; ${CRM_MON_XML} 2>&1 || true; echo '@@dcstate'; dc=$(timeout 15 crmadmin -D 2>/dev/null | sed -n 's/.*Designated Controller is: *\\([^ ]*\\).*/\\1/p'); [ -n "$dc" ] && timeout 15 crmadmin -S "$dc" 2>&1 || true; echo '@@vip'; ip -4 -o addr show | grep -c ' ${vip}/' || true; echo '@@store'; ${store.statusScript()}`;
    const status: ClusterStatus = {
      lab: this.plan.name,
      accel: this.accel,
      virtualIp: vip,
      vipHolders: [],
      power: {},
      smtp: { ok: false, detail: '' },
      imap: { ok: false, detail: '' },
      architecture: this.architecture(),
    };
    await Promise.all(
      this.plan.nodes.map(async (node) => {
        const r = await this.ssh.root(node.name, script, { timeoutMs: 30_000, reject: false, log: this.log, phase: 'status' });
        if (!r.ok) {
          (status.unreachable ??= {})[node.name] = `unreachable over ssh: ${r.reason}`;
          return;
        }
        const section = (name: string) => r.stdout.split(`@@${name}\n`)[1]?.split('\n@@')[0] ?? '';
        // The store's own lines (and their own @@ markers) are the rest of the output.
        store.readStatus(status, node.name, r.stdout.split('@@store\n')[1] ?? '');
        if (Number(section('vip').trim()) > 0) status.vipHolders.push(node.name);
        if (!status.pacemaker) {
          try {
            status.pacemaker = parseCrmMon(section('crm'));
            const dcState = parseDcState(section('dcstate'));
            if (dcState) status.pacemaker.dcState = dcState;
            delete status.pacemakerError;
          } catch (error) {
            status.pacemakerError = `${node.name}: ${(error as Error).message}`;
          }
        }
      }),
    );
    await Promise.all(
      this.power.map(async (power) => {
        try {
          status.power[power.node] = await power.status();
        } catch (error) {
          status.power[power.node] = `unknown (${(error as Error).message})`;
        }
      }),
    );
    const greet = async (port: number, expect: RegExp) => {
      try {
        const line = await readGreeting(vip, port, 5000);
        return { ok: expect.test(line), detail: line };
      } catch (error) {
        return { ok: false, detail: (error as Error).message };
      }
    };
    // IMAP answering means a login works: a greeting comes from imap-login alone, which stays up
    // while Dovecot refuses to start the imap processes behind it (found by clock-jump-active).
    const imapLogin = async () => {
      const greeting = await greet(143, /^\* OK/);
      const [user, password] = Object.entries(this.accounts())[0] ?? [];
      if (!greeting.ok || !user) return greeting;
      try {
        await listInbox({ host: vip }, mailServiceOf(this.plan).loginName(user, this.plan.mailDomain), password!, 10_000, { headersOnly: true });
        return { ok: true, detail: `${greeting.detail} (login as ${user} ok)` };
      } catch (error) {
        return { ok: false, detail: `greeting ok, login as ${user} failed: ${describeMailError(error)}` };
      }
    };
    [status.smtp, status.imap] = await Promise.all([greet(25, /^220 /), imapLogin()]);
    return status;
  }

  /**
   * Failed actions and blocked resources found now, recorded in {@link clearedFailures} and
   * cleaned up (one bounded `crm_resource --cleanup`, logged). Returns what it found.
   */
  async clearFailures(when: string, signal?: AbortSignal): Promise<Wedge[]> {
    const status = await this.status();
    const found = status.pacemaker ? wedges(status.pacemaker) : [];
    if (!found.length) return found;
    this.log.warn(`found ${when}, and cleaning up once: ${found.map((w) => w.why).join('; ')}`);
    this.clearedFailures.push(...found.map((w) => ({ ...w, when, at: new Date().toISOString() })));
    await this.cleanup(signal);
    return found;
  }

  /** What {@link clearFailures} found and cleaned up, with when and why: a run reports it as pre-existing. */
  readonly clearedFailures: Array<Wedge & { when: string; at: string }> = [];

  /** `crm_resource --cleanup` on the first node that answers (bounded). */
  private async cleanup(signal?: AbortSignal): Promise<void> {
    for (const node of this.plan.nodes) {
      const r = await this.ssh.root(node.name, 'crm_resource --cleanup >/dev/null 2>&1 && echo cleaned', { timeoutMs: 120_000, signal, reject: false, log: this.log, phase: 'cleanup' });
      if (r.ok && r.stdout.includes('cleaned')) return;
    }
    throw new Error('crm_resource --cleanup failed on every node');
  }

  /**
   * Waits until every readiness condition holds, settled: no operation under way, the DC idle,
   * and two reads in a row that agree (a read taken while cleaned-up devices start again is not
   * "ready"). Each progress line names what is unmet. A state that cannot resolve by itself (see
   * {@link wedges}) ends the wait at once, with the resource, operation, node, the agent's
   * message and the fix, unless `cleanups` allows one more cleanup (logged); a failed fence
   * device is named with its agent's own error text. With `verifyFencing`, the settled cluster's
   * fencing is verified too (see fence-verify.ts): a node that cannot be fenced by its own device
   * ends the wait at once. The timeout names the conditions that did not hold.
   */
  async waitReady(timeoutMs: number, signal?: AbortSignal, options: { cleanups?: number; started?: string[]; verifyFencing?: { expected?: readonly FenceDeviceSpec[] } } = {}): Promise<ClusterStatus> {
    const names = this.plan.nodes.map((n) => n.name);
    let cleanups = options.cleanups ?? 0;
    /** A node fenced while this waits comes back without its cluster stack (start-on-boot is off): start it, the routine step, recorded. */
    const startRebooted = async (status: ClusterStatus) => {
      const offline = names.filter((n) => !status.pacemaker?.nodes.find((x) => x.name === n)?.online);
      for (const node of offline) {
        const r = await this.ssh.root(node, 'systemctl is-active -q pacemaker && echo running || { systemctl start corosync pacemaker && echo started; }', { timeoutMs: 180_000, reject: false, signal, log: this.log, phase: 'ready' });
        if (r.ok && r.stdout.includes('started')) {
          const what = `started the cluster stack on ${node} (it rebooted; start-on-boot is off)`;
          this.log.info(what);
          options.started?.push(what);
        }
      }
    };
    let unmetNow = 'first status not read yet';
    let previous: string | undefined;
    /** When each node's DRBD was first read StandAlone in this wait (host clock); a reconnect forgets it. */
    const standAloneSince = new Map<string, number>();
    return withProgress(
      this.log,
      'waiting for the cluster to be ready',
      () =>
        waitFor(
          `${this.traits.kind} ${this.plan.name} ready (nodes online, the store ready, resources on one node, power fence devices started, settled, SMTP+IMAP on ${this.plan.virtualIp})`,
          async () => {
            const status = await this.status();
            const unmet = this.unmet(status);
            unmetNow = unmet.join('; ') || 'all met';
            if (unmet.some((u) => u.startsWith('node(s) not online'))) await startRebooted(status);
            for (const [node, d] of Object.entries(status.drbd ?? {})) {
              if (d.cs !== 'StandAlone') standAloneSince.delete(node);
              else if (!standAloneSince.has(node)) standAloneSince.set(node, Date.now());
            }
            // A StandAlone store is no Pacemaker failure: a cleanup does not clear it, so it ends the wait at once.
            const store = storeWedges(status.drbd, standAloneSince, Date.now(), DRBD_RESOURCE);
            if (store.length) throw new LabWedgedError([...store, ...(status.pacemaker ? wedges(status.pacemaker) : [])]);
            const stuck = status.pacemaker ? wedges(status.pacemaker) : [];
            if (stuck.length && cleanups > 0) {
              cleanups -= 1;
              previous = undefined;
              await this.clearFailures('while waiting for the cluster to be ready', signal);
              return notYet(`cleaned up: ${stuck.map((w) => w.why).join('; ')}`);
            }
            if (stuck.length) throw new LabWedgedError(await this.explainFenceWedges(stuck, status, signal));
            if (unmet.length) {
              previous = undefined;
              return notYet(unmetNow);
            }
            const signature = viewSignature(status.pacemaker!);
            if (previous !== signature) {
              previous = signature;
              unmetNow = 'all met once; reading again to see it settled';
              return notYet(unmetNow);
            }
            if (options.verifyFencing) {
              unmetNow = 'settled; verifying that each node can be fenced by its own device';
              const verified = await this.checkFencing(status, options.verifyFencing.expected, signal);
              if (!verified.ok) throw new FencingNotVerifiedError(verified);
            }
            return done(status);
          },
          { timeoutMs, intervalMs: 5000, signal },
        ),
      15_000,
      () => unmetNow,
    );
  }

  /** The last fencing verification (see {@link checkFencing}): recorded with the lab's readiness and in each run's manifest. */
  fencingVerification?: FencingVerification & { at: string };

  /** Verifies fencing on the settled cluster (fence-verify.ts); logs and records what it found. */
  async checkFencing(status: ClusterStatus, expected?: readonly FenceDeviceSpec[], signal?: AbortSignal): Promise<FencingVerification> {
    const started = new Set((status.pacemaker?.resources ?? []).filter((r) => r.active && !r.failed).map((r) => r.id));
    const verified = await verifyFencing({ shell: this.ssh, nodes: this.plan.nodes.map((n) => n.name), started, expected, log: this.log, signal });
    this.fencingVerification = { ...verified, at: new Date().toISOString() };
    for (const d of verified.devices) this.log.info(`fence device ${d.device} (${d.agent}) fences ${d.node} from ${d.from}: login ${d.login}; identity ${d.identity}`);
    for (const note of verified.notes) this.log.info(`fencing: ${note}`);
    return verified;
  }

  /**
   * The destructive check, for devices whose identity cannot be read (PDU outlets): each node is
   * fenced once through the cluster (`stonith_admin --reboot` from its peer), and the power
   * devices' logs must show that node, and only that node, losing power; then it rejoins (bounded).
   * A node fenced in two levels (its BMC, then PDU outlets) has its BMC held dead meanwhile (the
   * harness runs it), so that the fencer must go on to level 2: the BMC's own identity is read,
   * the outlets' only this proves. Returns the problems found, each naming the node and what its
   * fence did.
   */
  async fenceEachNodeOnce(timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
    const names = this.plan.nodes.map((n) => n.name);
    const problems: string[] = [];
    for (const node of names) {
      const peer = names.find((n) => n !== node)!;
      const power = this.power.find((p) => p.node === node);
      const level2 = power?.kind === 'ipmi+pdu' ? power.knobs : undefined;
      this.log.info(`verifying fencing by fencing: stonith_admin --reboot ${node} from ${peer}; the power devices must show ${node}, and only ${node}, losing power${level2 ? ` (its BMC held dead meanwhile: the fence must go through level 2, the PDU outlets)` : ''}`);
      const since = Date.now();
      await this.ssh.close(node);
      if (level2) await level2.kill();
      // Two levels: the first must fail (its agent's retries against a BMC that answers nothing) before the second runs.
      const bound = level2 ? 360 : 180;
      let fence: Awaited<ReturnType<NodeShell['root']>>;
      try {
        fence = await this.ssh.root(peer, `stonith_admin --reboot ${node} --timeout ${bound}`, { timeoutMs: (bound + 60) * 1000, signal, reject: false, log: this.log, phase: 'verify fencing' });
      } finally {
        if (level2) await level2.revive();
      }
      const until = Date.now() + 5000;
      const events = this.power.flatMap((p) => p.powerLog()).filter((e) => e.time >= since && e.time <= until);
      const supplies = Object.fromEntries(this.power.map((p) => [p.node, p.supplies()]));
      const lost = (n: string) => powerLosses(events, n, { supplies: supplies[n], start: { at: since, supplies: Object.fromEntries((supplies[n] ?? []).map((s) => [s, 'on' as const])) } });
      const others = names.filter((n) => n !== node && lost(n).length);
      if (!fence.ok) problems.push(`fencing ${node} through the cluster failed: ${(fence.stderr || fence.stdout).trim().split('\n').at(-1) ?? fence.reason}`);
      else if (others.length) problems.push(`fencing ${node} powered off ${others.join(', ')}: its fence device feeds the wrong machine`);
      else if (!lost(node).length) problems.push(`fencing ${node} was reported done, but its power devices show it never lost power`);
      else if (level2 && !events.some((e) => e.node === node && e.supply !== undefined && e.result === 'done' && e.value === '0')) problems.push(`fencing ${node} with its BMC dead was reported done, but no PDU outlet feeding it was switched off: level 2 did not fence it`);
      else this.log.info(`fencing ${node} powered off ${node} alone: verified${level2 ? ' (through level 2, its PDU outlets)' : ''}`);
      await this.waitReady(timeoutMs, signal);
    }
    return problems;
  }

  /**
   * A wedge of a fence device says why, in its agent's own words: every power device's login is
   * checked (not only the wedged one: a cleanup may have just cleared another's record), its
   * error text added, and each device that cannot log in is named.
   */
  private async explainFenceWedges(stuck: Wedge[], status: ClusterStatus, signal?: AbortSignal): Promise<Wedge[]> {
    const fences = (status.pacemaker?.resources ?? []).filter(isPowerFenceResource).map((r) => r.id);
    if (!stuck.some((w) => fences.includes(w.resource))) return stuck;
    try {
      const checked = await verifyFencing({ shell: this.ssh, nodes: this.plan.nodes.map((n) => n.name), started: new Set(), only: fences, log: this.log, signal });
      const failing = checked.devices.filter((d) => d.login !== 'ok');
      const explained = stuck.map((w) => {
        const device = failing.find((d) => d.device === w.resource);
        return device ? { ...w, why: `${w.why}; the fence device ${w.resource} (fences ${device.node}) cannot log in from ${device.from}: ${device.login}` } : w;
      });
      const others = failing
        .filter((d) => !stuck.some((w) => w.resource === d.device))
        .map((d): Wedge => ({ resource: d.device, node: d.from, why: `the fence device ${d.device} (fences ${d.node}) cannot log in from ${d.from}: ${d.login}`, fix: `correct ${d.device}'s parameters (crm_resource --resource ${d.device} --set-parameter ...), then: crm resource cleanup ${d.device}` }));
      return [...explained, ...others];
    } catch (error) {
      this.log.warn(`could not ask the fence agents why: ${(error as Error).message}`);
      return stuck;
    }
  }

  /**
   * Convergence after a heal, observed, not repaired: waits (bounded) for the cluster to be ready
   * on its own. The one routine step allowed is starting the cluster stack on a node that rebooted
   * (start-on-boot is off), and it is recorded. What the harness would otherwise have to repair
   * (a machine that is off, a power device that does not run, a failed action or a blocked
   * resource) is reported as found, at once, and nothing repairs it.
   */
  async converge(timeoutMs: number, signal?: AbortSignal): Promise<Convergence> {
    const started = performance.now();
    const actions: string[] = [];
    const found: string[] = [];
    for (const power of this.power) if (!power.isRunning()) found.push(`the power device of ${power.node} does not run (${power.describe()})`);
    found.push(...(await this.settledMachineFindings(signal)));
    if (found.length) return { ok: false, unmet: found, actions, seconds: (performance.now() - started) / 1000 };
    try {
      // The routine start of a rebooted node's cluster stack is waitReady's own step (recorded in `actions`).
      await this.waitReady(Math.max(1000, timeoutMs - (performance.now() - started)), signal, { started: actions });
      return { ok: true, unmet: [], actions, seconds: (performance.now() - started) / 1000 };
    } catch (error) {
      if (signal?.aborted) throw error;
      const unmet = error instanceof LabWedgedError ? error.wedges.map((w) => `${w.why} (not repaired; fix: ${w.fix})`) : [(error as Error).message.split('\n')[0]!];
      return { ok: false, unmet, actions, seconds: (performance.now() - started) / 1000 };
    }
  }
}

/** A settled cluster whose nodes cannot all be fenced by their own devices: "ready" would be a lie. */
export class FencingNotVerifiedError extends StopWaiting {
  constructor(readonly verification: FencingVerification) {
    super(`fencing is not verified: a node cannot be fenced by its own device:\n${verification.problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'FencingNotVerifiedError';
  }
}

/** The cluster is in a state that cannot resolve by itself (see `wedges`): waiting longer changes nothing. */
export class LabWedgedError extends StopWaiting {
  constructor(readonly wedges: Wedge[]) {
    super(`the cluster cannot become ready by itself:\n${wedges.map((w) => `  - ${w.why}\n    fix: ${w.fix}`).join('\n')}`);
    this.name = 'LabWedgedError';
  }
}
