/**
 * A node fed by outlets of switched PDUs the harness does not run (real APC rPDUs, or the lab's
 * virtual PDUs reached as if they were real): requests over SNMPv3, and, as for a real BMC
 * (polled-ipmi-power.ts), a power log made of the harness's own requests and each outlet change
 * a light, bounded poll saw (each outlet read once a second, one request in flight per outlet).
 * The node is off only when every outlet feeding it is (power-log.ts judges that from the log).
 */
import type { Logger } from '../core/log.ts';
import { ApcPduClient } from './apc-pdu-client.ts';
import { switchOutlets, type NodePower, type NodePowerAction, type NodePowerResult } from './power-device.ts';
import { PolledPower, POWER_POLL_MS } from './polled-power.ts';

/** One outlet feeding the node: the PDU's client and the outlet's number. */
export interface FeedingOutlet {
  pdu: ApcPduClient;
  outlet: number;
}

export class PolledPduPower extends PolledPower implements NodePower {
  readonly kind = 'pdu' as const;
  private readonly last = new Map<string, 'on' | 'off'>();
  private readonly busy = new Set<string>();
  private readonly failed = new Set<string>();

  constructor(
    readonly node: string,
    private readonly outlets: FeedingOutlet[],
    private readonly log: Logger,
    pollMs = POWER_POLL_MS,
  ) {
    super(pollMs);
    if (!outlets.length) throw new Error(`no PDU outlet feeds ${node}`);
  }

  private supply(o: FeedingOutlet): string {
    return `${o.pdu.endpoint.name}:${o.outlet}`;
  }

  describe(): string {
    return `${this.outlets.map((o) => `PDU ${o.pdu.endpoint.name} ${o.pdu.endpoint.address}:${o.pdu.endpoint.port} outlet ${o.outlet}`).join(', ')} (real PDU: outlets polled every ${this.pollMs / 1000} s)`;
  }
  supplies(): string[] {
    return this.outlets.map((o) => this.supply(o));
  }

  protected poll(): void {
    for (const o of this.outlets) void this.pollOutlet(o);
  }

  private async pollOutlet(o: FeedingOutlet): Promise<void> {
    const supply = this.supply(o);
    if (this.busy.has(supply)) return;
    this.busy.add(supply);
    try {
      const state = await o.pdu.outletStatus(o.outlet, 5000);
      this.failed.delete(supply);
      if (state !== this.last.get(supply)) this.events.push({ node: this.node, time: Date.now(), request: 'power', value: state === 'off' ? '0' : '1', result: 'done', supply });
      this.last.set(supply, state);
    } catch (error) {
      if (!this.failed.has(supply)) this.events.push({ node: this.node, time: Date.now(), request: 'status', value: (error as Error).message.slice(0, 120), result: 'poll-failed', supply });
      this.failed.add(supply);
    } finally {
      this.busy.delete(supply);
    }
  }

  /** Off: every outlet off; on: every outlet on; reset and cycle: all off, then all on. */
  async power(action: NodePowerAction): Promise<NodePowerResult> {
    const all = async (want: 'on' | 'off') =>
      Promise.all(
        this.outlets.map(async (o) => {
          const sent = Date.now();
          const r = await o.pdu.outlet(o.outlet, want);
          if (r.acknowledged) this.events.push({ node: this.node, time: sent, request: 'power', value: want === 'off' ? '0' : '1', result: 'done', supply: this.supply(o) });
          if (r.state !== 'unknown') this.last.set(this.supply(o), r.state);
          return r;
        }),
      );
    const result = await switchOutlets(action, all, () => this.status());
    if (!result.acknowledged) this.log.warn(`power ${action} of ${this.node} not acknowledged: ${result.error}`);
    return result;
  }

  /** On when any outlet feeding the node is on. */
  async status(): Promise<'on' | 'off'> {
    const states = Object.values(await this.supplyStatus());
    return states.includes('on') ? 'on' : 'off';
  }

  async supplyStatus(): Promise<Record<string, 'on' | 'off'>> {
    return Object.fromEntries(await Promise.all(this.outlets.map(async (o) => [this.supply(o), await o.pdu.outletStatus(o.outlet)] as const)));
  }

}
