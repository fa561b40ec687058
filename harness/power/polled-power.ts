/**
 * What every power device the harness does not run has in common (a real BMC, real PDUs): the
 * harness cannot see past it, so the machine's power is what the device reports; its log is the
 * harness's own requests and the changes a light, bounded poll saw; it is taken as running
 * (whether it answers is `status`'s to say); and the poll is started and stopped with the target.
 */
import type { PowerEvent } from './power-log.ts';
import type { NodePowerAction, NodePowerResult } from './power-device.ts';

/** How often a poll reads each power device, ms. */
export const POWER_POLL_MS = 1000;

export abstract class PolledPower {
  abstract readonly node: string;
  abstract readonly kind: 'ipmi' | 'pdu';
  protected readonly events: PowerEvent[] = [];
  private timer?: NodeJS.Timeout;

  constructor(protected readonly pollMs = POWER_POLL_MS) {}

  abstract describe(): string;
  abstract supplies(): string[];
  abstract power(action: NodePowerAction): Promise<NodePowerResult>;
  abstract status(): Promise<'on' | 'off'>;
  /** One round of the poll: reads the device and logs what changed. */
  protected abstract poll(): void;

  /** Starts the poll (idempotent). */
  start(): this {
    if (this.timer) return this;
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
    return this;
  }

  /** Stops the poll (idempotent). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The harness cannot see past the device: the machine's power is what the device reports. */
  targetPower(): Promise<'on' | 'off'> {
    return this.status();
  }

  /** In time order (a request is logged when its answer comes, stamped when it was sent). */
  powerLog(): PowerEvent[] {
    return [...this.events].sort((a, b) => a.time - b.time);
  }

  /** A device the harness does not run is taken as running; whether it answers is `status`'s to say. */
  isRunning(): boolean {
    return true;
  }
}
