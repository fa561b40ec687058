/**
 * "The node lost power", defined once, from the power devices' own logs (the ground truth the
 * fencing checker, the two-primaries checker and the timeline read). A node is fed by one or
 * more power supplies: its BMC (one), or PDU outlets (one per supply). It lost power at the
 * moment every one of its supplies was off; with two supplies, switching one outlet off is
 * not a power loss, whatever the fence agent reported. A node fenced in two levels (its BMC
 * first, then the PDU outlets feeding it) has both: the BMC's chassis power is in series with
 * the outlets, so it has power while its chassis is on and one of its outlets is.
 */

/** One power request a device carried out (or refused), host clock. */
export interface PowerEvent {
  node: string;
  /** Epoch ms, host clock. */
  time: number;
  /** `power` (value 0 off, 1 on), `reset` (a momentary loss), or another chassis request. */
  request: string;
  value: string;
  /** Only `done` changed anything. */
  result: string;
  /** The supply it acted on (`pdu1:3` for an outlet); absent for a BMC (the node's one supply). */
  supply?: string;
  /** Who did it, when not a request through the power device: `outside: <by>` (a repair through the hypervisor). */
  by?: string;
}

/** The supply name of a BMC event (a BMC is the node's one supply). */
export const BMC_SUPPLY = 'bmc';

export interface PowerLossOptions {
  /**
   * The node's supplies, from the lab's plan. Without it, the supplies are those its events
   * name (right for a BMC; for PDU outlets the plan must say, or an outlet never switched
   * would be missed).
   */
  supplies?: readonly string[];
  /** Count a reset (power gone for a moment) as a loss. Default true; fencing wants a real power-off. */
  resets?: boolean;
  /**
   * Each supply's power as its device reported it when the run began, and when (epoch ms, host
   * clock). Events before `at` are history, not this run's: whatever a repair did outside the
   * power device before the run (a hand `virsh start`, a lane restart), the run starts from what
   * the device said then. Without it, every supply is taken as on at the first event.
   */
  start?: { at: number; supplies: Record<string, 'on' | 'off' | 'unknown'> };
}

/**
 * `node`'s carried-out requests from the run's start up to `until`, in order, and each of its
 * supplies' power at the start: the plan's supplies, else those the events and the start name. An
 * unknown start (the device did not answer) is taken as on: a power-off is then counted, never missed.
 */
function replayStart(events: readonly PowerEvent[], node: string, options: PowerLossOptions, until = Infinity): { mine: PowerEvent[]; on: Map<string, boolean> } {
  const since = options.start?.at ?? -Infinity;
  const mine = events.filter((e) => e.node === node && e.result === 'done' && e.time >= since && e.time <= until).sort((a, b) => a.time - b.time);
  const supplies = options.supplies?.length ? [...options.supplies] : [...new Set([...mine.map((e) => e.supply ?? BMC_SUPPLY), ...Object.keys(options.start?.supplies ?? {})])];
  return { mine, on: new Map(supplies.map((s) => [s, options.start?.supplies[s] !== 'off'])) };
}

/**
 * Whether a node with these supplies' states has power: some supply on; with a BMC beside outlets
 * (two fencing levels), its chassis on and some outlet on. Pure.
 */
export function hasPower(on: ReadonlyMap<string, boolean>): boolean {
  if (on.size > 1 && on.has(BMC_SUPPLY)) return on.get(BMC_SUPPLY)! && [...on.entries()].some(([s, v]) => s !== BMC_SUPPLY && v);
  return [...on.values()].some(Boolean);
}

/** The moments (host clock, ascending) at which `node` lost all power, from `events`. */
export function powerLosses(events: readonly PowerEvent[], node: string, options: PowerLossOptions = {}): number[] {
  const { mine, on } = replayStart(events, node, options);
  const losses: number[] = [];
  for (const e of mine) {
    const supply = e.supply ?? BMC_SUPPLY;
    if (!on.has(supply)) continue; // an outlet the plan does not give this node
    if (e.request === 'power' && e.value === '0') {
      const was = hasPower(on);
      on.set(supply, false);
      if (was && !hasPower(on)) losses.push(e.time);
    } else if (e.request === 'power' && e.value === '1') on.set(supply, true);
    else if ((e.request === 'reset' || (e.request === 'power' && e.value === 'reset')) && options.resets !== false) {
      // A reset of one supply is a loss only if the node had power and would have none without that supply.
      if (hasPower(on) && !hasPower(new Map([...on, [supply, false]]))) losses.push(e.time);
    }
  }
  return losses;
}

/** Whether `node` had power at `at` (see {@link hasPower}), replaying its devices' logs from the run's start. Pure. */
export function poweredAt(events: readonly PowerEvent[], node: string, at: number, options: PowerLossOptions = {}): boolean {
  const { mine, on } = replayStart(events, node, options, at);
  if (!on.size) return true;
  for (const e of mine) {
    const supply = e.supply ?? BMC_SUPPLY;
    if (!on.has(supply) || e.request !== 'power') continue;
    if (e.value === '0') on.set(supply, false);
    else if (e.value === '1') on.set(supply, true);
  }
  return hasPower(on);
}

/** The supplies of `node` that were never switched off between `from` and `to` (for a message: which outlet kept the node alive). */
export function suppliesNeverOff(events: readonly PowerEvent[], node: string, supplies: readonly string[], from: number, to: number): string[] {
  const off = new Set(events.filter((e) => e.node === node && e.result === 'done' && e.request === 'power' && e.value === '0' && e.time >= from && e.time <= to).map((e) => e.supply ?? BMC_SUPPLY));
  return supplies.filter((s) => !off.has(s));
}
