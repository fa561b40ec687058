/**
 * A node powered through a BMC the harness does not run (a real iDRAC/iLO/IPMI BMC, or the lab's
 * virtual BMC reached as if it were one): requests over IPMI (ipmitool), and no view inside the
 * firmware. The power log is what the harness can know: its own requests, and each change of the
 * power state that a light, bounded poll of `chassis power status` saw (one request a second,
 * each bounded to 5 s; a poll that fails is logged as such, never taken as a state).
 *
 * The polled log timestamps a change at the poll that saw it, up to one interval late; a power-off
 * shorter than the interval (a `reset`) can pass unseen. The fencing checker needs a power-off
 * before the takeover: a fence agent's reboot holds the node off for seconds (it waits for the
 * status to read off before it powers on), so the poll sees it.
 */
import { IpmiClient, IpmiError } from '../bmc/ipmi-client.ts';
import type { Logger } from '../core/log.ts';
import { BMC_SUPPLY } from './power-log.ts';
import { PolledPower } from './polled-power.ts';
import type { NodePower, NodePowerAction, NodePowerResult } from './power-device.ts';

export { POWER_POLL_MS } from './polled-power.ts';

export interface PolledIpmiPowerOptions {
  node: string;
  address: string;
  port: number;
  username: string;
  password: string;
  log: Logger;
  pollMs?: number;
}

export class PolledIpmiPower extends PolledPower implements NodePower {
  readonly kind = 'ipmi' as const;
  readonly node: string;
  private readonly client: IpmiClient;
  private readonly pollClient: IpmiClient;
  private last: 'on' | 'off' | undefined;
  private polling = false;
  private failedPolls = 0;

  constructor(private readonly options: PolledIpmiPowerOptions) {
    super(options.pollMs);
    this.node = options.node;
    const endpoint = { name: `${options.node}-bmc`, address: options.address, port: options.port, username: options.username };
    this.client = new IpmiClient(endpoint, { password: options.password, log: options.log });
    // The poll tries once and gives up quickly: a late reading is worth less than the next one.
    this.pollClient = new IpmiClient(endpoint, { password: options.password, log: options.log, retries: 0, timeoutMs: 5000 });
  }

  describe(): string {
    return `IPMI BMC ${this.options.address}:${this.options.port} (real BMC: power polled every ${this.pollMs / 1000} s)`;
  }
  supplies(): string[] {
    return [BMC_SUPPLY];
  }

  protected poll(): void {
    void this.pollOnce();
  }

  private async pollOnce(): Promise<void> {
    if (this.polling) return; // one request in flight at a time: a slow BMC is not flooded
    this.polling = true;
    try {
      const state = await this.pollClient.status();
      this.failedPolls = 0;
      if (state !== this.last) this.events.push({ node: this.node, time: Date.now(), request: 'power', value: state === 'off' ? '0' : '1', result: 'done' });
      this.last = state;
    } catch (error) {
      this.failedPolls += 1;
      if (this.failedPolls === 1) this.events.push({ node: this.node, time: Date.now(), request: 'status', value: error instanceof IpmiError ? error.kind : 'error', result: 'poll-failed' });
    } finally {
      this.polling = false;
    }
  }

  async power(action: NodePowerAction): Promise<NodePowerResult> {
    const r = await this.client.power(action);
    if (r.acknowledged) this.events.push({ node: this.node, time: Date.now() - r.durationMs, request: action === 'on' || action === 'off' ? 'power' : action, value: action === 'off' ? '0' : action === 'on' ? '1' : action, result: 'done' });
    if (r.state !== 'unknown') this.last = r.state;
    return { action, acknowledged: r.acknowledged, state: r.state, durationMs: r.durationMs, error: r.error?.message };
  }

  async supplyStatus(): Promise<Record<string, 'on' | 'off'>> {
    return { [BMC_SUPPLY]: await this.status() };
  }

  async status(): Promise<'on' | 'off'> {
    try {
      return await this.client.status();
    } catch (error) {
      throw new Error(error instanceof IpmiError ? error.kind : (error as Error).message, { cause: error });
    }
  }

}
