/**
 * One certification run of one scenario: bring the lab to ready, measure node clocks, arm the
 * watcher, start the workload, inject the fault, wait (bounded) for the service to come back,
 * cool down, stop the workload, heal (always), check convergence, read every mailbox back,
 * collect evidence, and judge. Everything lands in one run directory, written in phases.
 */
import type { Logger } from '../core/log.ts';
import { sleep, waitFor, done, notYet, WaitTimeoutError } from '../core/wait.ts';
import { SeededRandom } from '../core/random.ts';
import { compose, type CheckResult } from '../check/checker.ts';
import { convergence } from '../check/convergence.ts';
import { failoverTime } from '../check/failover-time.ts';
import { fencing } from '../check/fencing.ts';
import { mailIntegrity } from '../check/mail-integrity.ts';
import { singlePrimary } from '../check/single-primary.ts';
import type { NodeSample, Observations } from '../check/observations.ts';
import { faultFor } from '../faults/catalog.ts';
import { auditLab } from '../faults/audit.ts';
import type { FaultContext } from '../faults/fault.ts';
import { now } from '../history/history.ts';
import { outcome, pairOperations, type Operation } from '../history/operation.ts';
import type { Lab, StartedLab } from '../lab/lab.ts';
import { unmetReadiness } from '../lab/status.ts';
import { drainMailQueue } from '../lab/mail-queue.ts';
import { measureOffset, toHostClock, type ClockOffset } from '../observe/clock.ts';
import { collectEvidence } from '../observe/collect.ts';
import { failoverEvents, fenceResults, parseJournal } from '../observe/journal.ts';
import { NodeWatcher } from '../observe/watcher.ts';
import { RunStore } from '../report/run-store.ts';
import type { RunResults } from '../report/results.ts';
import { renderTimeline } from '../report/timeline.ts';
import type { Scenario } from '../scenario/scenario.ts';
import { MailWorkload } from '../workload/workload.ts';
import { serviceBack } from './service-back.ts';

export interface RunOptions {
  lab: Lab;
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

/** The first moment after the fault when clients succeed again after their last failure. */
function serviceBackAt(history: readonly Operation[], faultAt: number): number | undefined {
  const after = pairOperations(history)
    .filter((p) => p.invoke.f === 'probe' && p.invoke.time >= faultAt)
    .map((p) => ({ t: p.completion?.time ?? p.invoke.time, ok: outcome(p) === 'ok' }));
  const lastBad = after.filter((o) => !o.ok).at(-1)?.t;
  if (lastBad === undefined) return undefined;
  return after.find((o) => o.ok && o.t > lastBad)?.t;
}

/** Waits (bounded) until the service is back the way the scenario expects it (see service-back.ts). */
async function waitForService(history: () => readonly Operation[], samples: () => readonly NodeSample[], fault: { node: string; injectedAt: number; releasedAt?: number }, scenario: Scenario, signal?: AbortSignal): Promise<void> {
  await waitFor(
    `the mail service back on the virtual IP (${scenario.expect}: ${scenario.expect === 'failover' ? `the IP off ${fault.node}, then ` : ''}SMTP and IMAP probes steadily ok)`,
    () => {
      const state = serviceBack({ expect: scenario.expect, faultNode: fault.node, faultAt: fault.injectedAt, releasedAt: fault.releasedAt, now: now(), history: history(), samples: samples() });
      return state.back ? done(true) : notYet(state.why);
    },
    { timeoutMs: scenario.workload.recoveryTimeoutSeconds * 1000, intervalMs: 500, signal },
  );
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

export async function runScenario(options: RunOptions): Promise<RunOutcome> {
  const { scenario, seed, signal } = options;
  const fault = faultFor(scenario.fault);
  const store = RunStore.create({ root: options.reportsRoot, name: scenario.name, seed, meta: { scenario, lab: options.lab.config }, log: options.log });
  const log = store.log;
  const history = store.history;

  let lab: StartedLab = await options.lab.up({ signal });
  const before = await lab.status();
  const active = before.vipHolders[0];
  if (!active || before.vipHolders.length !== 1) throw new Error(`cannot tell the active node: the virtual IP is held by [${before.vipHolders.join(', ')}]`);
  const offsets: Record<string, ClockOffset> = {};
  for (const n of lab.plan.nodes) offsets[n.name] = await measureOffset(lab, n.name);
  // Everything random in a run comes from its seed: a replay repeats it.
  const schedule = drawSchedule(scenario, seed, active);
  const { injectAfterSeconds } = schedule;
  store.setPhase('started', { activeNode: active, accel: lab.accel, clockOffsets: offsets, schedule });
  log.info(`scenario ${scenario.name}: fault ${scenario.fault} on the active node ${active}, ${injectAfterSeconds} s after the workload starts`, { seed });
  const workload = new MailWorkload({
    random: new SeededRandom(seed).fork('workload'),
    host: lab.plan.virtualIp,
    domain: lab.lab.config.mail.domain,
    accounts: lab.accounts(),
    history,
    tag: store.runId,
    sendRate: scenario.workload.sendRate,
    probeIntervalMs: scenario.workload.probeIntervalMs,
    log,
  });
  const watcher = new NodeWatcher(lab, offsets, log);
  const observations: Observations = { fault: { name: scenario.fault, node: active, injectedAt: 0 }, fenceEvents: [], promotions: [], bmcPower: [], samples: [], phases: {} };
  const ctx = (): FaultContext => ({ lab, node: active, log, signal, clockOffsetsMs: Object.fromEntries(Object.entries(offsets).map(([n, o]) => [n, o.offsetMs])) });

  await watcher.start();
  workload.start();
  // An interruption (Ctrl-C) or a crash of the harness's own steps still heals, stops the
  // watcher, collects the evidence and writes results (judged on what was seen); then it is rethrown.
  let aborted: unknown;
  try {
    try {
      await sleep(injectAfterSeconds * 1000, signal);
      observations.fault.injectedAt = now();
      await history.record('nemesis', scenario.fault, { node: active }, () => fault.inject(ctx()));
      if (scenario.holdSeconds !== undefined) {
        log.info(`fault held for ${scenario.holdSeconds} s`);
        await sleep(Math.max(0, observations.fault.injectedAt + scenario.holdSeconds * 1000 - now()), signal);
        await history.record('nemesis', 'release', { node: active }, () => (fault.release ?? fault.heal).call(fault, ctx()));
        observations.fault.releasedAt = now();
      }
      try {
        if (scenario.expect === 'no-takeover') {
          // Nothing should come back: watch the whole window for a takeover that must not happen.
          log.info(`watching ${scenario.workload.recoveryTimeoutSeconds} s for a takeover that must not happen`);
          await sleep(scenario.workload.recoveryTimeoutSeconds * 1000, signal);
        } else await waitForService(() => history.operations(), () => watcher.samples(), observations.fault, scenario, signal);
        await sleep(scenario.workload.cooldownSeconds * 1000, signal);
      } catch (error) {
        if (!(error instanceof WaitTimeoutError)) throw error;
        log.error(error.message); // the checkers report the outage; the run goes on to heal and judge
      }
    } finally {
      await workload.stop();
      store.setPhase('history');
      await history.record('nemesis', 'heal', { node: active }, () => fault.heal(ctx())).catch((e: unknown) => log.error(`heal failed: ${(e as Error).message}`));
      observations.fault.healedAt = now();
    }

    // Convergence: the lab must come back to ready on its own plus the harness's routine start of
    // a rebooted node's cluster stack (start-on-boot is off by default).
    try {
      lab = await options.lab.up({ signal });
      watcher.retarget(lab);
      const status = await lab.status();
      const unmet = [...unmetReadiness(status, lab.plan.nodes.map((n) => n.name)), ...(await fault.audit(ctx())), ...(await auditLab(lab))];
      observations.convergence = { ok: unmet.length === 0, unmet, checkedAt: now() };
    } catch (error) {
      if (signal?.aborted) throw error;
      observations.convergence = { ok: false, unmet: [(error as Error).message.split('\n')[0]!], checkedAt: now() };
    }
  } catch (error) {
    aborted = error;
    log.error(`run ${signal?.aborted ? 'interrupted' : 'broken off'}: ${(error as Error).message}; collecting what was seen`);
  } finally {
    observations.samples = await watcher.stop();
  }
  // A message deferred during the fault would otherwise wait out the queue's backoff.
  if (!aborted) observations.mailQueue = await drainMailQueue(lab, log, 90_000, signal).catch((e: unknown) => ({ drained: false, queued: -1, waitedMs: 0, error: (e as Error).message }));
  await workload.readBack();

  // Logs from a minute before the fault (or before the run, if it was interrupted before the fault).
  const evidence = await collectEvidence(lab, store, (observations.fault.injectedAt || Date.parse(store.startedAt)) - 60_000, offsets);
  observations.bmcPower = lab.bmcs.flatMap((b) => b.powerLog().map((e) => ({ node: b.name, ...e })));
  for (const e of evidence) {
    if (!e.journal) continue;
    const lines = parseJournal(e.journal);
    const sinceNode = observations.fault.injectedAt + (offsets[e.node]?.offsetMs ?? 0);
    // Fence results from every journal: a fence race shows up in the shooter's, which may be the failed node's.
    for (const f of fenceResults(lines, sinceNode)) {
      const completedAt = toHostClock(f.time, offsets[e.node]);
      const status = f.ok ? 'success' : 'failed';
      const seen = observations.fenceEvents.some((o) => o.target === f.target && o.status === status && Math.abs(o.completedAt - completedAt) < 5000);
      if (!seen) observations.fenceEvents.push({ target: f.target, action: f.action, status, delegate: e.node, completedAt });
    }
    if (e.node === active) continue;
    const events = failoverEvents(lines, active, sinceNode, lab.plan.nodes.find((n) => n.name === active)?.index);
    for (const [phase, t] of Object.entries(events.phases)) observations.phases[phase] = toHostClock(t, offsets[e.node]);
    observations.promotions.push(...events.promotions.map((t) => ({ node: e.node, at: toHostClock(t, offsets[e.node]) })));
  }
  const back = serviceBackAt(history.operations(), observations.fault.injectedAt);
  if (back) observations.phases['service-answering'] = back;
  store.writeJson('observations.json', observations);

  const verdict = judge(scenario, history.operations(), observations);
  const outage = verdict.results?.['failover-time']?.details?.outageSeconds;
  const results: RunResults = {
    schemaVersion: 1,
    runId: store.runId,
    name: scenario.name,
    seed,
    startedAt: store.startedAt,
    finishedAt: new Date().toISOString(),
    valid: verdict.valid,
    summary: verdict.summary,
    checks: verdict.results ?? {},
    schedule,
    environment: { accel: lab.accel, lab: lab.lab.config.name, activeNode: active, clockOffsets: offsets, cluster: lab.lab.config.cluster },
    metrics: {
      outageSeconds: outage ?? null,
      phasesSecondsAfterFault: Object.fromEntries(Object.entries(observations.phases).map(([k, v]) => [k, Number(((v - observations.fault.injectedAt) / 1000).toFixed(2))])),
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
    renderTimeline({ results, history: history.operations(), samples: observations.samples, bmcPower: observations.bmcPower, markers: { fault: observations.fault.injectedAt, ...observations.phases, ...(observations.fault.releasedAt ? { released: observations.fault.releasedAt } : {}), ...(observations.fault.healedAt ? { healed: observations.fault.healedAt } : {}) } }),
  );
  if (aborted) throw aborted;
  return { dir: store.dir, results };
}
