/**
 * One certification run of one scenario, in five steps, each a function of its own:
 *
 * 1. prepare: the lab up and ready (failed actions from before recorded as pre-existing, then
 *    cleared), node clocks measured, the host's speed and the schedule drawn from the seed;
 * 2. exercise: watcher armed, workload started, the fault injected (and released if held), the
 *    service awaited (bounded), the workload stopped, and the heal, always;
 * 3. converge: the lab observed until it is ready again by itself (nothing repaired), audits;
 * 4. gather: the mail queue drained, every mailbox read back, evidence collected and read;
 * 5. judge: the five checkers on the history and the observations, results and timeline.
 *
 * Everything lands in one run directory, written in phases, so a crash leaves its evidence.
 */
import type { Logger } from '../core/log.ts';
import { sleep, waitFor, done, notYet, WaitTimeoutError } from '../core/wait.ts';
import { SeededRandom } from '../core/random.ts';
import { compose, type CheckResult } from '../check/checker.ts';
import { convergence } from '../check/convergence.ts';
import { clientOps, failoverTime, outageOf } from '../check/failover-time.ts';
import { storeOf } from '../storage/storage.ts';
import { verifyProblem, type StoreVerification } from '../storage/store-backend.ts';
import { mailServiceOf } from '../mail/mail.ts';
import { fencing } from '../check/fencing.ts';
import { mailIntegrity } from '../check/mail-integrity.ts';
import { singlePrimary } from '../check/single-primary.ts';
import { overloadReasons } from '../check/overload.ts';
import { describeNodeStates, noNodeUpSince, nodeStatesAt, phasesAfterFault, type NodeSample, type NodeUpState, type Observations, type PowerAtStart } from '../check/observations.ts';
import type { NodePower } from '../power/power-device.ts';
import { resolveSlo } from '../calibrate/baseline.ts';
import { faultFor } from '../faults/catalog.ts';
import { auditTarget } from '../faults/audit.ts';
import type { Fault, FaultContext } from '../faults/fault.ts';
import { now } from '../history/history.ts';
import type { Operation } from '../history/operation.ts';
import { programRunCounts } from '../core/exec.ts';
import type { StartedTarget, Target } from '../session/target.ts';
import { drainMailQueue } from './mail-queue.ts';
import { measureOffset, type ClockOffset } from '../observe/clock.ts';
import { collectEvidence } from '../observe/collect.ts';
import { observeJournals } from '../observe/evidence.ts';
import { GuestCpuWindow, type GuestLoad } from '../observe/guest-load.ts';
import { HostLoadMonitor, measureHost, type HostInfo } from '../observe/host-load.ts';
import { NodeWatcher } from '../observe/watcher.ts';
import { RunStore } from '../report/run-store.ts';
import type { RunResults } from '../report/results.ts';
import { renderTimeline } from '../report/timeline.ts';
import { expectationFor, type FencingKinds, type Scenario } from '../scenario/scenario.ts';
import { MailWorkload } from '../workload/workload.ts';
import { serviceBack } from './service-back.ts';
import { harnessVersion } from '../core/version.ts';
import { readRunVersions, type RunVersions } from '../session/cluster-versions.ts';

export interface RunOptions {
  /** The cluster under test: the lab, or an existing cluster (harness/existing/). */
  target: Target;
  scenario: Scenario;
  seed: number;
  reportsRoot?: string;
  log: Logger;
  signal?: AbortSignal;
}

export interface RunOutcome {
  dir: string;
  results: RunResults;
}

/** The verdict on a run: the five checkers, composed (the worst wins; one that throws is unknown). */
export function judge(scenario: Scenario, history: readonly Operation[], observations: Observations): CheckResult {
  return compose<Scenario, Observations>(scenario.name, [failoverTime, mailIntegrity, fencing, singlePrimary, convergence]).check({ scenario, history, observations });
}

/** When the fault hits: the warm-up plus a draw from the seed in [0, injectJitterSeconds). Pure. */
export function drawSchedule(scenario: Scenario, seed: number, node: string): NonNullable<RunResults['schedule']> {
  const jitterSeconds = scenario.workload.injectJitterSeconds ?? 5;
  const injectAfterSeconds = Number((scenario.workload.warmupSeconds + new SeededRandom(seed).fork(`schedule:${scenario.name}`).next() * jitterSeconds).toFixed(3));
  return { fault: scenario.fault, node, injectAfterSeconds, jitterSeconds };
}

/** How long each step of the run took, seconds (wall clock). */
export type StepSeconds = Partial<Record<'prepare' | 'exercise' | 'failover' | 'converge' | 'gather' | 'judge', number>>;

/** Times a step, logs its end with the duration at INFO, and records it. */
async function step<T>(log: Logger, steps: StepSeconds, name: keyof StepSeconds, what: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  log.info(`${what}...`);
  try {
    return await work();
  } finally {
    steps[name] = Number(((performance.now() - started) / 1000).toFixed(1));
    log.info(`${what}: ${steps[name]} s`);
  }
}

/** The fence device kinds of `node` (`ipmi`, `pdu`, `ipmi+pdu`), what a scenario's expectation may depend on. Pure. */
export function fencingKindsOf(cluster: Pick<StartedTarget, 'powerOf'>, node: string): FencingKinds {
  return cluster.powerOf(node).kind;
}

/** The variant a run certified: `drbd/ipmi/postfix-dovecot`, `shared/pdu/axigen`. Pure. */
export function variantOf(cluster: Pick<StartedTarget, 'plan' | 'power'>): string {
  const fencing = [...new Set(cluster.power.map((p) => p.kind))].sort().join('+') || 'none';
  return `${cluster.plan.storage}/${fencing}/${mailServiceOf(cluster.plan).kind}`;
}

/** What prepare hands on. */
interface Prepared {
  cluster: StartedTarget;
  active: string;
  offsets: Record<string, ClockOffset>;
  schedule: NonNullable<RunResults['schedule']>;
  host: HostInfo;
  preexisting: StartedTarget['clearedFailures'];
  powerAtStart: PowerAtStart;
  /** The cluster's own versions, read from its nodes. */
  versions: RunVersions;
}

/** Each node's supplies as their power devices report them now (unknown where a device does not answer). */
export async function readPowerAtStart(power: readonly NodePower[]): Promise<PowerAtStart> {
  const nodes: PowerAtStart['nodes'] = {};
  await Promise.all(
    power.map(async (p) => {
      try {
        nodes[p.node] = await p.supplyStatus();
      } catch {
        nodes[p.node] = Object.fromEntries(p.supplies().map((s) => [s, 'unknown' as const]));
      }
    }),
  );
  return { at: Date.now(), nodes };
}

async function prepare(options: RunOptions, store: RunStore): Promise<Prepared> {
  const { scenario, seed, signal } = options;
  const log = store.log;
  const host = measureHost();
  log.info(`host: ${host.cores} cores, speed ${host.sha256MBps} MB/s (sha256, one core), load ${host.load1AtStart.toFixed(2)}`);
  const lab = await options.target.up({ signal });
  const before = await lab.status();
  const active = before.vipHolders[0];
  if (!active || before.vipHolders.length !== 1) throw new Error(`cannot tell the active node: the virtual IP is held by [${before.vipHolders.join(', ')}]`);
  const offsets: Record<string, ClockOffset> = {};
  for (const n of lab.plan.nodes) offsets[n.name] = await measureOffset(lab, n.name);
  // Everything random in a run comes from its seed: a replay repeats it.
  const schedule = drawSchedule(scenario, seed, active);
  // The run's power truth starts here, from what each power device says now: nothing before the run (a repair, a hand start) counts.
  const powerAtStart = await readPowerAtStart(lab.power);
  log.info(`power at the start: ${Object.entries(powerAtStart.nodes).map(([n, s]) => `${n} ${Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ')}`).join('; ')}`);
  const versions = await readRunVersions(lab, signal);
  log.info(`versions: ${Object.entries(versions.cluster).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const preexisting = [...lab.clearedFailures];
  if (preexisting.length) log.warn(`pre-existing conditions, recorded and cleared before the run: ${preexisting.map((w) => w.why).join('; ')}`);
  const fencingVerified = lab.fencingVerification;
  store.setPhase('started', { activeNode: active, accel: lab.accel, clockOffsets: offsets, schedule, host, preexisting, powerAtStart, versions: versions.cluster, ...(fencingVerified ? { fencingVerified } : {}), ...(lab.preflight ? { preflight: lab.preflight } : {}) });
  return { cluster: lab, active, offsets, schedule, host, preexisting, powerAtStart, versions };
}

/** The run's moving parts during the exercise: each is stopped whatever happens. */
interface Exercise {
  watcher: NodeWatcher;
  workload: MailWorkload;
  hostLoad: HostLoadMonitor;
  guestCpu: GuestCpuWindow;
  /** The harness's and the cluster's share of guest CPU from the workload's start to the fault. */
  steadyLoad?: (GuestLoad | { node: string; error: string })[];
}

/** How long no node may be up (all off by their power devices, or unreachable) before the wait for the service ends: nothing can bring it back. */
export const NO_NODE_UP_BOUND_MS = 120_000;

/** The run's view of which nodes are up now (power devices' logs from the run's start, event streams). */
type NodeStates = () => NodeUpState[];

/**
 * Waits (bounded) until the service is back the way the scenario expects it (see service-back.ts).
 * Ends early, returning `no-node-up`, when no node has been up for {@link NO_NODE_UP_BOUND_MS}:
 * the progress says so from the first moment, naming each node's state and its evidence.
 */
async function waitForService(history: () => readonly Operation[], samples: () => readonly NodeSample[], nodeStates: NodeStates, fault: { node: string; injectedAt: number; releasedAt?: number; releaseDoneAt?: number }, scenario: Scenario, log: Logger, signal?: AbortSignal): Promise<'back' | 'no-node-up'> {
  let why = '';
  const progress = setInterval(() => log.info(`waiting for the service (${scenario.expect}): ${why}`), 15_000);
  let states: NodeUpState[] = [];
  let statesAt = 0;
  try {
    return await waitFor(
      `the mail service back on the virtual IP (${scenario.expect}: ${scenario.expect === 'failover' ? `the IP off ${fault.node}, then ` : ''}SMTP and IMAP probes steadily ok)`,
      () => {
        const state = serviceBack({ expect: scenario.expect, faultNode: fault.node, faultAt: fault.injectedAt, releasedAt: fault.releaseDoneAt ?? fault.releasedAt, now: now(), history: history(), samples: samples() });
        if (state.back) return done('back' as const);
        if (now() - statesAt > 5000) {
          states = nodeStates();
          statesAt = now();
        }
        const none = noNodeUpSince(states);
        if (none !== undefined) {
          why = `no node is up, so nothing can bring the service back: ${describeNodeStates(states, fault.injectedAt)}`;
          if (now() - none > NO_NODE_UP_BOUND_MS) {
            log.error(`no node has been up for ${((now() - none) / 1000).toFixed(0)} s (${describeNodeStates(states, fault.injectedAt)}): the service cannot come back by itself; the wait ends here`);
            return done('no-node-up' as const);
          }
        } else why = state.why;
        return notYet(why);
      },
      { timeoutMs: scenario.workload.recoveryTimeoutSeconds * 1000, intervalMs: 500, signal },
    );
  } finally {
    clearInterval(progress);
  }
}

/** Injects the fault, waits for the service, stops the workload, and heals (always). */
async function exercise(p: Prepared, ex: Exercise, fault: Fault, scenario: Scenario, store: RunStore, observations: Observations, steps: StepSeconds, workloadStarted: number, signal?: AbortSignal): Promise<void> {
  const { active } = p;
  const log = store.log;
  const history = store.history;
  const ctx = (): FaultContext => ({ target: p.cluster, node: active, log, signal, clockOffsetsMs: Object.fromEntries(Object.entries(p.offsets).map(([n, o]) => [n, o.offsetMs])) });
  const nodeStates: NodeStates = () =>
    nodeStatesAt(
      { powerLog: p.cluster.power.flatMap((power) => power.powerLog()), powerSupplies: Object.fromEntries(p.cluster.power.map((power) => [power.node, power.supplies()])), powerAtStart: p.powerAtStart, samples: ex.watcher.samples() },
      p.cluster.plan.nodes.map((n) => n.name),
      now(),
    );
  try {
    const injectAt = workloadStarted + p.schedule.injectAfterSeconds * 1000;
    await sleep(Math.max(0, injectAt - 3000 - now()), signal);
    // The steady window closes just before the fault: it measures the healthy cluster under the workload.
    ex.steadyLoad = await ex.guestCpu.close().catch(() => undefined);
    await sleep(Math.max(0, injectAt - now()), signal);
    observations.fault.injectedAt = now();
    await history.record('nemesis', scenario.fault, { node: active }, () => fault.inject(ctx()));
    log.info(`fault ${scenario.fault} injected on ${active} at ${new Date(observations.fault.injectedAt).toISOString()}`);
    const failoverStarted = performance.now();
    if (scenario.holdSeconds !== undefined) {
      log.info(`fault held for ${scenario.holdSeconds} s`);
      await sleep(Math.max(0, observations.fault.injectedAt + scenario.holdSeconds * 1000 - now()), signal);
      // Released from the moment the release begins: a device it revives may answer before the release returns.
      observations.fault.releasedAt = now();
      await history.record('nemesis', 'release', { node: active }, () => (fault.release ?? fault.heal).call(fault, ctx()));
      observations.fault.releaseDoneAt = now();
      log.info(`fault released ${((observations.fault.releasedAt - observations.fault.injectedAt) / 1000).toFixed(1)} s after it was injected (the release took ${((observations.fault.releaseDoneAt - observations.fault.releasedAt) / 1000).toFixed(1)} s)`);
    }
    try {
      if (scenario.expect === 'no-takeover') {
        // Nothing should come back: watch the whole window for a takeover that must not happen.
        log.info(`watching ${scenario.workload.recoveryTimeoutSeconds} s for a takeover that must not happen`);
        await sleep(scenario.workload.recoveryTimeoutSeconds * 1000, signal);
      } else {
        const outcome = await waitForService(() => history.operations(), () => ex.watcher.samples(), nodeStates, observations.fault, scenario, log, signal);
        if (outcome === 'no-node-up') return;
        log.info(`service back ${((now() - observations.fault.injectedAt) / 1000).toFixed(1)} s after the fault (${scenario.expect})`);
      }
      steps.failover = Number(((performance.now() - failoverStarted) / 1000).toFixed(1));
      await sleep(scenario.workload.cooldownSeconds * 1000, signal);
      if (scenario.expect !== 'no-takeover') {
        // The run ends on a steady service: a relapse during the cooldown (a slow login on a
        // just-started, loaded node) is waited out too, or the outage would have no end to measure.
        const relapsed = history.operations().some((o) => o.f === 'probe' && o.type === 'fail' && o.time > now() - scenario.workload.cooldownSeconds * 1000);
        if (relapsed) log.info('a probe failed during the cooldown: waiting again for the service to be steady');
        await waitForService(() => history.operations(), () => ex.watcher.samples(), nodeStates, observations.fault, scenario, log, signal);
      }
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) throw error;
      log.error(error.message); // the checkers report the outage; the run goes on to heal and judge
    }
  } finally {
    await ex.workload.stop();
    store.setPhase('history');
    const healStarted = performance.now();
    await history.record('nemesis', 'heal', { node: active }, () => fault.heal(ctx())).catch((e: unknown) => log.error(`heal failed: ${(e as Error).message}`));
    observations.fault.healedAt = now();
    log.info(`heal done in ${((performance.now() - healStarted) / 1000).toFixed(1)} s`);
  }
}

/** The online verify's bound: it reads the whole store on both nodes (1 GiB under TCG: ~30 s measured). */
export const STORE_VERIFY_TIMEOUT_MS = 10 * 60_000;

/** Observes the lab until it is ready by itself (bounded), then audits and compares the store's copies; records what it found. */
async function converge(p: Prepared, target: Target, fault: Fault, scenario: Scenario, observations: Observations, log: Logger, signal?: AbortSignal): Promise<void> {
  const ctx: FaultContext = { target: p.cluster, node: p.active, log, signal, clockOffsetsMs: Object.fromEntries(Object.entries(p.offsets).map(([n, o]) => [n, o.offsetMs])) };
  const seen = await p.cluster.converge(target.clusterReadyMs, signal);
  const audits = seen.ok ? [...(await fault.audit(ctx)), ...(await auditTarget(p.cluster))] : [];
  // Converged: are the store's copies identical? (DRBD's online verify, from the node holding the IP: the primary.)
  const store = storeOf(p.cluster.plan);
  let verify: StoreVerification | undefined;
  let expected: { verify: StoreVerification; repair: string } | undefined;
  const unmetVerify: string[] = [];
  if (seen.ok && store.verify) {
    const primary = (await p.cluster.status()).vipHolders[0] ?? p.cluster.plan.nodes[0]!.name;
    const runVerify = () => store.verify!({ root: (node, script, timeoutMs) => p.cluster.root(node, script, timeoutMs, signal), node: primary, log, timeoutMs: STORE_VERIFY_TIMEOUT_MS, signal });
    verify = await runVerify();
    log.info(verify.ran ? `online verify: ${verifyProblem(verify) ?? 'the two copies are identical'} (${verify.seconds} s)` : `online verify not run: ${verify.why}`);
    if (scenario.storeDifferences === 'expected' && verify.ran) {
      if (!verifyProblem(verify)) {
        unmetVerify.push(`the fault made the store's copies differ behind DRBD's back (${fault.kind}), yet the online verify found them identical: the one check that can see it did not`);
      } else {
        // Found, as it must be: the bad copy resynced from the good one, then compared again.
        const found = verify;
        const repair = fault.repairStore ? await fault.repairStore(ctx) : 'not repaired (the fault has no repair)';
        log.info(`the differences the fault made were found; ${repair}`);
        expected = { verify: found, repair };
        verify = await runVerify();
        log.info(verify.ran ? `online verify after the repair: ${verifyProblem(verify) ?? 'the two copies are identical'} (${verify.seconds} s)` : `online verify after the repair not run: ${verify.why}`);
      }
    }
  }
  const differ = verify && verifyProblem(verify);
  const unmet = [...seen.unmet, ...audits, ...unmetVerify, ...(differ ? [expected ? `after the repair, ${differ}` : differ] : [])];
  observations.convergence = { ok: unmet.length === 0, unmet, checkedAt: now(), actions: seen.actions, ...(verify ? { verify } : {}), ...(expected ? { expectedDifferences: expected } : {}) };
  log.info(`convergence: ${unmet.length ? `NOT converged: ${unmet.join('; ')}` : 'ready again'} after ${seen.seconds.toFixed(1)} s${seen.actions.length ? ` (${seen.actions.join('; ')})` : ''}`);
}

/**
 * Who brought the mail service back after the fault, from the evidence: the cluster when the
 * survivor's or the node's journal shows Pacemaker starting a mail resource after the fault; else,
 * when the clients saw it back, the service itself (Axigen's supervisor restarting its child, a
 * daemon's own restart), which the cluster never saw. Pure.
 */
export function recoveredBy(observations: Pick<Observations, 'phases' | 'fault' | 'mailStarts'>, resourceIds: readonly string[], outageSeconds: number | undefined): string {
  const fromPhases = resourceIds.map((id) => [id, observations.phases[`${id}-started`]] as const).filter(([, at]) => at !== undefined && at >= observations.fault.injectedAt);
  const inPlace = (observations.mailStarts ?? []).filter((s) => s.at >= observations.fault.injectedAt && !fromPhases.some(([id]) => id === s.resource)).map((s) => [`${s.resource} on ${s.node}`, s.at] as const);
  const starts = [...fromPhases, ...inPlace];
  if (starts.length) return `the cluster (Pacemaker started ${starts.map(([id, at]) => `${id} at +${((at! - observations.fault.injectedAt) / 1000).toFixed(1)} s`).join(', ')})`;
  if (outageSeconds !== undefined) return outageSeconds === 0 ? 'nothing to recover (no client saw an outage)' : 'the service itself (the clients saw it back with no start by the cluster: a restart in place the cluster never saw, e.g. by Axigen\'s supervisor)';
  return 'not recovered within the run';
}

/** The programs that act on a hypervisor: a run on an existing cluster must run none of them. */
export const HYPERVISOR_PROGRAMS = ['virsh', 'vagrant', 'qemu-img', 'qemu-system-x86_64', 'virt-install'];

/** What the harness ran on the host between two counts, by program, and how many of those were hypervisor calls. Pure. */
export function hostProgramsBetween(before: Record<string, number>, after: Record<string, number>): { programs: Record<string, number>; hypervisorCalls: number } {
  const programs = Object.fromEntries(Object.entries(after).map(([p, n]) => [p, n - (before[p] ?? 0)]).filter(([, n]) => (n as number) > 0));
  return { programs, hypervisorCalls: HYPERVISOR_PROGRAMS.reduce((sum, p) => sum + (programs[p] ?? 0), 0) };
}

export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const { seed, signal } = options;
  // The scenario as written; the one judged may expect another outcome for how this cluster fences (below).
  let scenario = options.scenario;
  const programsBefore = programRunCounts();
  const fault = faultFor(scenario.fault);
  const store = RunStore.create({ root: options.reportsRoot, name: scenario.name, seed, meta: { scenario, ...options.target.record }, log: options.log });
  const log = store.log;
  const history = store.history;
  const steps: StepSeconds = {};

  const p = await step(log, steps, 'prepare', 'prepare (lab ready, clocks, schedule)', () => prepare(options, store));
  const expectation = expectationFor(scenario, fencingKindsOf(p.cluster, p.active));
  scenario = expectation.scenario;
  if (options.scenario.expectWithFencing) {
    log.info(`expected: ${expectation.because}${expectation.weakness ? ` (the weakness it shows: ${expectation.weakness})` : ''}`);
    store.setPhase('started', { expectation: { expect: scenario.expect, because: expectation.because, ...(expectation.weakness ? { weakness: expectation.weakness } : {}) } });
  }
  log.info(`scenario ${scenario.name}: fault ${scenario.fault} on the active node ${p.active}, ${p.schedule.injectAfterSeconds} s after the workload starts`, { seed });
  const workload = new MailWorkload({
    random: new SeededRandom(seed).fork('workload'),
    host: p.cluster.plan.virtualIp,
    domain: p.cluster.plan.mailDomain,
    accounts: p.cluster.accounts(),
    history,
    tag: store.runId,
    loginOf: (account) => mailServiceOf(p.cluster.plan).loginName(account, p.cluster.plan.mailDomain),
    sendRate: scenario.workload.sendRate,
    probeIntervalMs: scenario.workload.probeIntervalMs,
    log,
  });
  const ex: Exercise = {
    watcher: new NodeWatcher(p.cluster, p.offsets, log),
    workload,
    hostLoad: new HostLoadMonitor().start(),
    guestCpu: new GuestCpuWindow(p.cluster.ssh, p.cluster.plan.nodes.map((n) => n.name)),
  };
  const observations: Observations = { fault: { name: scenario.fault, node: p.active, injectedAt: 0 }, fenceEvents: [], takeovers: [], powerLog: [], powerAtStart: p.powerAtStart, samples: [], phases: {} };

  // An interruption (Ctrl-C) or a crash of the harness's own steps still heals, stops the
  // watcher, collects the evidence and writes results (judged on what was seen); then it is rethrown.
  let aborted: unknown;
  try {
    await ex.watcher.start();
    await ex.guestCpu.open();
    workload.start();
    const workloadStarted = now();
    await step(log, steps, 'exercise', 'exercise (workload, fault, service back, heal)', () => exercise(p, ex, fault, scenario, store, observations, steps, workloadStarted, signal));
    await step(log, steps, 'converge', 'converge (observed, nothing repaired)', () => converge(p, options.target, fault, scenario, observations, log, signal));
  } catch (error) {
    aborted = error;
    log.error(`run ${signal?.aborted ? 'interrupted' : 'broken off'}: ${(error as Error).message}; collecting what was seen`);
    await workload.stop();
  } finally {
    observations.samples = await ex.watcher.stop();
    observations.load = { guests: ex.watcher.loadSamples(), host: ex.hostLoad.stop() };
  }

  await step(log, steps, 'gather', 'gather (queue drained, mail read back, evidence)', async () => {
    // A message deferred during the fault would otherwise wait out the queue's backoff.
    if (!aborted) {
      const queue = await drainMailQueue(p.cluster, log, 90_000, signal).catch((e: unknown) => ({ drained: false, queued: -1, waitedMs: 0, error: (e as Error).message }));
      if (queue) observations.mailQueue = queue;
    }
    await workload.readBack();
    // Logs from a minute before the fault (or before the run, if it was interrupted before the fault).
    const evidence = await collectEvidence(p.cluster, store, (observations.fault.injectedAt || Date.parse(store.startedAt)) - 60_000, p.offsets);
    observations.powerLog = p.cluster.power.flatMap((power) => power.powerLog());
    observations.powerSupplies = Object.fromEntries(p.cluster.power.map((power) => [power.node, power.supplies()]));
    const devices = p.cluster.fencingVerification?.devices ?? [];
    if (devices.length) observations.fenceDevices = Object.fromEntries(p.cluster.plan.nodes.map((n) => [n.name, devices.filter((d) => d.node === n.name).map((d) => d.device)]));
    observations.store = p.cluster.plan.storage;
    observeJournals(observations, evidence, p.cluster.plan.nodes, p.offsets, storeOf(p.cluster.plan), mailServiceOf(p.cluster.plan).resourceIds);
  });

  const results = await step(log, steps, 'judge', 'judge', async () => {
    // The probes' outage by the verdict's own rule (failover-time): when they answered again.
    const back = outageOf(clientOps(history.operations(), (process) => process.startsWith('probe-')), observations.fault.injectedAt)?.end;
    if (back) observations.phases['service-answering'] = back;
    observations.slo = resolveSlo(scenario, { accel: p.cluster.accel, ...options.target.baseline() });
    const overload = options.target.vcpus ? overloadReasons({ observations, vcpus: options.target.vcpus, hostCores: p.host.cores }) : [];
    if (overload.length) observations.overload = { reasons: overload };
    store.writeJson('observations.json', observations);
    return writeResults(store, options.target, scenario, seed, p, observations, ex.steadyLoad, steps, aborted, signal, hostProgramsBetween(programsBefore, programRunCounts()), expectation);
  });
  if (aborted) throw aborted;
  return { dir: store.dir, results };
}

/** The kernels' own words about the store's disk after the fault, for a verdict that is not a pass: the first and the last lines. Pure. */
export function diskWords(observations: Pick<Observations, 'diskKernel' | 'fault'>, max = 6): string {
  const lines = observations.diskKernel ?? [];
  const say = (l: (typeof lines)[number]) => `${l.node} +${((l.at - observations.fault.injectedAt) / 1000).toFixed(1)} s: ${l.text}`;
  if (lines.length <= max) return `the kernel about the store's disk: ${lines.map(say).join(' | ')}`;
  // The first lines are the fault's; the last are how it ended (a StandAlone link, say): both.
  const head = Math.ceil(max / 2);
  const tail = max - head;
  return `the kernel about the store's disk: ${lines.slice(0, head).map(say).join(' | ')} | (${lines.length - max} more lines in nodes/*/journal.txt) | ${lines.slice(-tail).map(say).join(' | ')}`;
}

function writeResults(store: RunStore, target: Target, scenario: Scenario, seed: number, p: Prepared, observations: Observations, steadyLoad: Exercise['steadyLoad'], steps: StepSeconds, aborted: unknown, signal: AbortSignal | undefined, host: ReturnType<typeof hostProgramsBetween>, expectation: ReturnType<typeof expectationFor>): RunResults {
  const history = store.history;
  const verdict = judge(scenario, history.operations(), observations);
  const outage = verdict.results?.['failover-time']?.details?.outageSeconds;
  const guests = observations.load?.guests ?? [];
  const peak = (node: string) => Math.max(0, ...guests.filter((g) => g.node === node && g.time >= observations.fault.injectedAt).map((g) => g.load1));
  const results: RunResults = {
    schemaVersion: 1,
    runId: store.runId,
    name: scenario.name,
    seed,
    startedAt: store.startedAt,
    finishedAt: new Date().toISOString(),
    valid: verdict.valid,
    // A pass that shows a weakness of the architecture says so (a mains loss with IPMI-only fencing).
    summary: expectation.weakness && verdict.valid === true ? `${verdict.summary}; the architecture's weakness: ${expectation.weakness}` : verdict.valid !== true && observations.diskKernel?.length ? `${verdict.summary}; ${diskWords(observations)}` : verdict.summary,
    checks: verdict.results ?? {},
    schedule: p.schedule,
    environment: {
      harnessVersion: harnessVersion(),
      // The cluster's own versions (kernel, Pacemaker, Corosync, the store's, the mail service's), from its nodes.
      clusterVersions: p.versions.cluster,
      // The architecture's variant in three words, for the trend's filters: store, fencing, mail service.
      variant: variantOf(p.cluster),
      // What was expected of this cluster, and why (a scenario may expect another outcome for another fencing topology).
      expectation: { expect: scenario.expect, because: expectation.because, ...(expectation.weakness ? { weakness: expectation.weakness } : {}) },
      clusterVersionsByNode: p.versions.byNode,
      accel: p.cluster.accel,
      lab: target.name,
      target: target.traits.kind,
      // What the harness ran on the host during the run: on an existing cluster, no hypervisor call at all.
      hostPrograms: host.programs,
      hypervisorCalls: host.hypervisorCalls,
      // Which of the architecture's variants this run certified: the store and each node's power device.
      architecture: p.cluster.architecture(),
      activeNode: p.active,
      clockOffsets: p.offsets,
      ...(target.record.lab ? { cluster: (target.record.lab as { cluster: unknown }).cluster } : {}),
      vcpus: target.vcpus ?? null,
      host: { ...p.host, peakLoad1: Math.max(0, ...(observations.load?.host ?? []).map((h) => h.load1)) },
      slo: observations.slo,
      overload: observations.overload?.reasons ?? [],
      throttle: observations.throttle ?? [],
      preexisting: p.preexisting,
      convergenceActions: observations.convergence?.actions ?? [],
      recoveredBy: recoveredBy(observations, mailServiceOf(p.cluster.plan).resourceIds, typeof outage === 'number' ? outage : undefined),
    },
    metrics: {
      outageSeconds: outage ?? null,
      outageByProtocolSeconds: verdict.results?.['failover-time']?.details?.protocols ?? {},
      phasesSecondsAfterFault: phasesAfterFault(observations),
      stepSeconds: steps,
      guestLoad: { steadyWindow: steadyLoad ?? [], peakLoad1AfterFault: Object.fromEntries(p.cluster.plan.nodes.map((n) => [n.name, peak(n.name)])) },
      operations: history.operations().length,
    },
  };
  if (aborted) {
    results.valid = 'unknown';
    results.summary = `${signal?.aborted ? 'interrupted' : 'broken off'} before the verdict: ${(aborted as Error).message}; ${results.summary}`;
  }
  store.writeResults(results);
  store.writeText(
    'timeline.html',
    renderTimeline({
      results,
      history: history.operations(),
      samples: observations.samples,
      powerLog: observations.powerLog,
      powerSupplies: observations.powerSupplies,
      powerAtStart: observations.powerAtStart,
      load: observations.load,
      markers: { fault: observations.fault.injectedAt, ...observations.phases, ...(observations.fault.releasedAt ? { released: observations.fault.releasedAt } : {}), ...(observations.fault.healedAt ? { healed: observations.fault.healedAt } : {}) },
    }),
  );
  return results;
}
