/**
 * The power-device seam: one node's power as the faults, audits, status and checks see it,
 * whatever the device is. Two implementations: the node's IPMI BMC ({@link BmcNodePower}, over
 * `ipmi_sim`), and the outlets of one or two switched PDUs feeding its power supplies
 * ({@link PduNodePower}, over `snmpd`). The cluster's fence agent and its parameters come from
 * the lab's plan (cluster-files.ts); everything the harness itself does to power goes through here.
 */
import { IpmiError } from '../bmc/ipmi-client.ts';
import type { PowerControlFaults } from '../bmc/sim-files.ts';
import type { StartedVirtualBmc } from '../bmc/virtual-bmc.ts';
import { BMC_SUPPLY, type PowerEvent } from './power-log.ts';
import type { StartedVirtualPdu } from './virtual-pdu.ts';
import type { OutletResult } from './apc-pdu-client.ts';

export type NodePowerAction = 'on' | 'off' | 'reset' | 'cycle';

/** What a power request through the device did. `acknowledged: false`: the outcome is not known from the reply. */
export interface NodePowerResult {
  action: NodePowerAction;
  acknowledged: boolean;
  /** The node's power read back afterwards through the device; `unknown` when it could not be read. */
  state: 'on' | 'off' | 'unknown';
  durationMs: number;
  error?: string;
}

/** One node's power device(s). */
export interface NodePower {
  readonly node: string;
  /** `ipmi+pdu`: two fencing levels, the BMC first, then the PDU outlets ({@link TwoLevelNodePower}). */
  readonly kind: 'ipmi' | 'pdu' | 'ipmi+pdu';
  /** In words, for status and reports: `IPMI BMC 10.213.1.1:6231`, `PDU pdu1 outlets 1+3`. */
  describe(): string;
  /** The node's supplies (`bmc`, or `pdu1:1`...): it has no power when all are off. */
  supplies(): string[];
  /** A power request through the device's protocol, as an operator or a fault would make it. */
  power(action: NodePowerAction): Promise<NodePowerResult>;
  /** The node's power as the device reports it (through its protocol). Throws when it does not answer. */
  status(): Promise<'on' | 'off'>;
  /** Each supply's power as the device reports it (a BMC: its one; PDUs: each outlet). Throws when a device does not answer. */
  supplyStatus(): Promise<Record<string, 'on' | 'off'>>;
  /** The machine's real power, not through the device: the ground truth for audits. */
  targetPower(): Promise<'on' | 'off'>;
  /** Every power request the device(s) carried out or refused for this node, host clock. */
  powerLog(): PowerEvent[];
  /** True while every device of this node runs (it may be hung); a device the harness does not run is taken as running. */
  isRunning(): boolean;
  /** The device's own fault knobs, when the harness runs the device (the lab's virtual BMC or PDU); none for real hardware. */
  readonly knobs?: PowerKnobs;
}

/** Fault knobs of a power device the harness runs: it dies, hangs, turns slow/failing/lying; and their heals. */
export interface PowerKnobs {
  /** Records a power change made outside the device (a repair through the hypervisor) in its power log, as `outside: <by>`. */
  recordOutside(value: 'on' | 'off', by: string): void;
  kill(): Promise<void>;
  revive(): Promise<void>;
  hang(): Promise<void>;
  resume(): Promise<void>;
  setPowerControl(faults: Partial<PowerControlFaults>): void;
  heal(): Promise<void>;
  /** What is left of any device fault, in words; empty when healthy. */
  leftovers(): string[];
  /**
   * How slow the device may turn in a "slow power device" fault and still be usable by its fence
   * agent: the delay of every power request, ms. Measured against the real agents here: ipmitool
   * retransmits and takes the late answer (5 s works); fence_apc_snmp's SNMPv3 client retries
   * after 1 s and drops an answer to an earlier try, so a PDU slower than ~1 s can never be
   * fenced through (5 s: every attempt times out; 0.8 s: a reboot in 2.5 s).
   */
  readonly slowDelayMs: number;
  /**
   * A node fed by PDU outlets: its power supplies lose mains power (`false`: the outlets still
   * switch, the machine stays off) or get it back (`true`). Absent where nothing feeds the node
   * through outlets the harness runs.
   */
  mains?(on: boolean): void;
}

/** A node powered through its own IPMI BMC. */
export class BmcNodePower implements NodePower, PowerKnobs {
  readonly kind = 'ipmi' as const;
  readonly knobs: PowerKnobs = this;
  readonly slowDelayMs = 5000;
  constructor(readonly bmc: StartedVirtualBmc) {}
  get node(): string {
    return this.bmc.name;
  }
  describe(): string {
    return `IPMI BMC ${this.bmc.endpoint.address}:${this.bmc.endpoint.port} (fence_ipmilan)`;
  }
  supplies(): string[] {
    return [BMC_SUPPLY];
  }
  async power(action: NodePowerAction): Promise<NodePowerResult> {
    const r = await this.bmc.client().power(action);
    return { action, acknowledged: r.acknowledged, state: r.state, durationMs: r.durationMs, error: r.error?.message };
  }
  async supplyStatus(): Promise<Record<string, 'on' | 'off'>> {
    return { [BMC_SUPPLY]: await this.status() };
  }
  async status(): Promise<'on' | 'off'> {
    try {
      return await this.bmc.client({ retries: 1 }).status();
    } catch (error) {
      throw new Error(error instanceof IpmiError ? error.kind : (error as Error).message, { cause: error });
    }
  }
  targetPower(): Promise<'on' | 'off'> {
    return this.bmc.targetPower();
  }
  powerLog(): PowerEvent[] {
    return this.bmc.powerLog().map((e) => ({ node: this.node, time: e.time, request: e.request, value: e.value, result: e.result, ...(e.detail.startsWith('outside: ') ? { by: e.detail } : {}) }));
  }
  isRunning(): boolean {
    return this.bmc.isRunning();
  }
  recordOutside(value: 'on' | 'off', by: string): void {
    this.bmc.recordOutside(value === 'on' ? '1' : '0', by);
  }
  kill(): Promise<void> {
    return this.bmc.kill();
  }
  revive(): Promise<void> {
    return this.bmc.revive();
  }
  hang(): Promise<void> {
    return this.bmc.hang();
  }
  resume(): Promise<void> {
    return this.bmc.resume();
  }
  setPowerControl(faults: Partial<PowerControlFaults>): void {
    this.bmc.setPowerControl(faults);
  }
  heal(): Promise<void> {
    return this.bmc.heal();
  }
  leftovers(): string[] {
    return this.bmc.leftovers();
  }
}

/**
 * A node's power request carried out on every outlet feeding it (off: all off; on: all on; reset
 * and cycle: all off, then all on: a node with two supplies is off only when both are), then its
 * power read back through `status`. The one definition for the lab's PDUs and real ones.
 */
export async function switchOutlets(action: NodePowerAction, all: (want: 'on' | 'off') => Promise<OutletResult[]>, status: () => Promise<'on' | 'off'>): Promise<NodePowerResult> {
  const started = performance.now();
  const results: OutletResult[] = [];
  for (const want of action === 'on' || action === 'off' ? [action] : (['off', 'on'] as const)) results.push(...(await all(want)));
  const failed = results.find((r) => !r.acknowledged);
  let state: NodePowerResult['state'] = 'unknown';
  try {
    state = await status();
  } catch {
    // unknown: said by `state`
  }
  return { action, acknowledged: !failed, state, durationMs: Math.round(performance.now() - started), error: failed ? `outlet ${failed.outlet}: ${failed.error}` : undefined };
}

/** A node fed by PDU outlets (one per power supply, on one PDU or on two). */
export class PduNodePower implements NodePower, PowerKnobs {
  readonly kind = 'pdu' as const;
  readonly knobs: PowerKnobs = this;
  readonly slowDelayMs = 800;
  constructor(
    readonly node: string,
    /** The PDUs with at least one outlet feeding this node. */
    readonly pdus: StartedVirtualPdu[],
  ) {
    if (!pdus.some((p) => p.outletsOf(node).length)) throw new Error(`no PDU outlet feeds ${node}`);
  }
  private outlets() {
    return this.pdus.flatMap((pdu) => pdu.outletsOf(this.node).map((o) => ({ pdu, outlet: o.outlet })));
  }
  describe(): string {
    return this.pdus.map((p) => `PDU ${p.name} ${p.endpoint.address}:${p.endpoint.port} outlet${p.outletsOf(this.node).length > 1 ? 's' : ''} ${p.outletsOf(this.node).map((o) => o.outlet).join('+')}`).join(', ') + ' (fence_apc_snmp)';
  }
  supplies(): string[] {
    return this.outlets().map(({ pdu, outlet }) => `${pdu.name}:${outlet}`);
  }
  /** Off: every outlet off. On: every outlet on. Reset and cycle: all off, then all on (a node with two supplies is off only when both are). */
  power(action: NodePowerAction): Promise<NodePowerResult> {
    return switchOutlets(action, (want) => Promise.all(this.outlets().map(({ pdu, outlet }) => pdu.outlet(outlet, want))), () => this.status());
  }
  /** On when any outlet feeding the node is on (as the machine sees it). */
  async status(): Promise<'on' | 'off'> {
    const states = Object.values(await this.supplyStatus());
    return states.includes('on') ? 'on' : 'off';
  }
  async supplyStatus(): Promise<Record<string, 'on' | 'off'>> {
    return Object.fromEntries(await Promise.all(this.outlets().map(async ({ pdu, outlet }) => [`${pdu.name}:${outlet}`, await pdu.outletStatus(outlet)] as const)));
  }
  targetPower(): Promise<'on' | 'off'> {
    return this.pdus.find((p) => p.outletsOf(this.node).length)!.targetPower(this.node);
  }
  powerLog(): PowerEvent[] {
    return this.pdus.flatMap((pdu) =>
      pdu
        .powerLog()
        .filter((e) => e.node === this.node)
        .map((e) => ({ node: this.node, time: e.time, request: 'power', value: e.value, result: e.result, supply: `${pdu.name}:${e.outlet}`, ...(e.detail?.startsWith('outside: ') ? { by: e.detail } : {}) })),
    );
  }
  isRunning(): boolean {
    return this.pdus.every((p) => p.isRunning());
  }
  recordOutside(value: 'on' | 'off', by: string): void {
    for (const pdu of this.pdus) pdu.recordOutside(this.node, value === 'on' ? '1' : '0', by);
  }
  async kill(): Promise<void> {
    for (const p of this.pdus) await p.kill();
  }
  async revive(): Promise<void> {
    // Together, as mains power returns to both at once.
    await Promise.all(this.pdus.map((p) => p.revive()));
  }
  async hang(): Promise<void> {
    for (const p of this.pdus) await p.hang();
  }
  async resume(): Promise<void> {
    for (const p of this.pdus) await p.resume();
  }
  setPowerControl(faults: Partial<PowerControlFaults>): void {
    for (const p of this.pdus) p.setPowerControl(faults);
  }
  mains(on: boolean): void {
    // The machine is one, shared by every PDU that feeds it.
    this.pdus[0]!.setMains(this.node, on);
  }
  async heal(): Promise<void> {
    for (const p of this.pdus) await p.heal();
  }
  leftovers(): string[] {
    return this.pdus.flatMap((p) => p.leftovers());
  }
}

/**
 * A node fenced in two levels: its BMC first (level 1), then the PDU outlets feeding its power
 * supplies (level 2), as Pacemaker's fencing topology tries them. The BMC switches the chassis the
 * outlets feed: the node has power while its chassis is on and one of its outlets is (see
 * power-log.ts), and a BMC has no power of its own when its supplies have none (a real BMC runs
 * on the supplies' standby power). The harness's own power requests go through the BMC, as an
 * operator's would, and through the outlets when the BMC does not answer; the device faults
 * (dead, hung, slow, failing) are the BMC's, the device the fencer asks first.
 */
export class TwoLevelNodePower implements NodePower {
  readonly kind = 'ipmi+pdu' as const;
  readonly knobs?: PowerKnobs;
  constructor(
    readonly bmc: NodePower,
    readonly outlets: NodePower,
  ) {
    if (bmc.kind !== 'ipmi' || outlets.kind !== 'pdu' || bmc.node !== outlets.node) throw new Error('two fencing levels are a node\'s BMC, then the PDU outlets feeding the same node');
    const first = bmc.knobs;
    const second = outlets.knobs;
    if (first && second) {
      this.knobs = {
        slowDelayMs: first.slowDelayMs,
        recordOutside: (value, by) => {
          first.recordOutside(value, by);
          second.recordOutside(value, by);
        },
        kill: () => first.kill(),
        revive: () => first.revive(),
        hang: () => first.hang(),
        resume: () => first.resume(),
        setPowerControl: (faults) => first.setPowerControl(faults),
        mains: (on) => second.mains?.(on),
        heal: async () => {
          // Mains first (the PDUs' side), then the BMC boots on its standby power.
          await second.heal();
          await first.heal();
        },
        leftovers: () => [...first.leftovers(), ...second.leftovers()],
      };
    }
  }
  get node(): string {
    return this.bmc.node;
  }
  describe(): string {
    return `level 1: ${this.bmc.describe()}; level 2: ${this.outlets.describe()}`;
  }
  /** The BMC's chassis and the outlets: see power-log.ts's `hasPower`. */
  supplies(): string[] {
    return [...this.bmc.supplies(), ...this.outlets.supplies()];
  }
  /**
   * Off, reset, cycle: through the BMC, else (it does not acknowledge) through the outlets. On:
   * every outlet on, then the chassis (a node whose outlets a fence left off has no power to start).
   */
  async power(action: NodePowerAction): Promise<NodePowerResult> {
    if (action === 'on') {
      const fed = await this.outlets.power('on');
      if (!fed.acknowledged) return fed;
      const on = await this.bmc.power('on');
      return { ...on, durationMs: fed.durationMs + on.durationMs };
    }
    const first = await this.bmc.power(action);
    if (first.acknowledged) return first;
    const second = await this.outlets.power(action);
    return second.acknowledged ? second : { ...second, error: `BMC: ${first.error ?? 'no answer'}; outlets: ${second.error ?? 'no answer'}` };
  }
  /** Off when the BMC says so, or when every outlet is off; on when the BMC says on and an outlet is on. */
  async status(): Promise<'on' | 'off'> {
    const supplies = await this.supplyStatus();
    const outlets = Object.entries(supplies).filter(([s]) => s !== BMC_SUPPLY);
    if (outlets.length && outlets.every(([, v]) => v === 'off')) return 'off';
    if (supplies[BMC_SUPPLY] === undefined) throw new Error(`the BMC of ${this.node} does not answer and an outlet feeding it is on`);
    return supplies[BMC_SUPPLY] === 'on' && outlets.some(([, v]) => v === 'on') ? 'on' : 'off';
  }
  /** Both devices' readings; a device that does not answer is left out (both silent: throws). */
  async supplyStatus(): Promise<Record<string, 'on' | 'off'>> {
    const [bmc, outlets] = await Promise.allSettled([this.bmc.supplyStatus(), this.outlets.supplyStatus()]);
    if (bmc.status === 'rejected' && outlets.status === 'rejected') throw new Error(`neither level answers: BMC: ${(bmc.reason as Error).message}; outlets: ${(outlets.reason as Error).message}`);
    return { ...(bmc.status === 'fulfilled' ? bmc.value : {}), ...(outlets.status === 'fulfilled' ? outlets.value : {}) };
  }
  targetPower(): Promise<'on' | 'off'> {
    return this.bmc.targetPower();
  }
  powerLog(): PowerEvent[] {
    return [...this.bmc.powerLog(), ...this.outlets.powerLog()].sort((a, b) => a.time - b.time);
  }
  isRunning(): boolean {
    return this.bmc.isRunning() && this.outlets.isRunning();
  }
}
