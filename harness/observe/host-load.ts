/**
 * The host a run measured on: how many cores, how fast one of them is right now (a fixed piece
 * of work timed at the start of the run), and how loaded the host was while the run went on
 * (its load average and busy share, sampled every few seconds). A verdict on failover time is
 * only comparable across hosts with these next to it.
 */
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';

/** The host's figures at the start of a run. */
export interface HostInfo {
  cores: number;
  model: string;
  /**
   * Single-core speed: SHA-256 over 32 MiB, MB/s, best of three (higher is faster). On the
   * hosts measured so far: ~500-900 MB/s; a figure far below the lab's calibration host's means
   * a slower or busier machine.
   */
  sha256MBps: number;
  load1AtStart: number;
}

/** Measures the host's speed figure (about 0.2 s of one core). */
export function measureHost(): HostInfo {
  const data = Buffer.alloc(32 * 1024 * 1024, 7);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    createHash('sha256').update(data).digest();
    best = Math.min(best, performance.now() - t);
  }
  const info = cpus();
  return { cores: info.length, model: info[0]?.model ?? 'unknown', sha256MBps: Math.round(32 / (best / 1000) * 1.048576), load1AtStart: loadavg()[0]! };
}

/** One sample of the host's load. */
export interface HostLoadSample {
  time: number;
  load1: number;
  /** Busy share of all cores since the previous sample, percent. */
  busyPercent?: number;
}

/** Busy and total jiffies from /proc/stat's first line. Pure. */
export function cpuTicks(procStat: string): { busy: number; total: number } {
  const f = (/^cpu\s+(.*)$/m.exec(procStat)?.[1] ?? '').trim().split(/\s+/).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

/** Samples the host's load every `everyMs` until stopped. */
export class HostLoadMonitor {
  private timer?: NodeJS.Timeout;
  private last?: { busy: number; total: number };
  readonly samples: HostLoadSample[] = [];

  start(everyMs = 5000): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    return this;
  }

  private sample(): void {
    let ticks: { busy: number; total: number } | undefined;
    try {
      ticks = cpuTicks(readFileSync('/proc/stat', 'utf8'));
    } catch {
      ticks = undefined;
    }
    const prev = this.last;
    const busyPercent = ticks && prev && ticks.total > prev.total ? Number(((100 * (ticks.busy - prev.busy)) / (ticks.total - prev.total)).toFixed(1)) : undefined;
    this.last = ticks;
    this.samples.push({ time: Date.now(), load1: loadavg()[0]!, ...(busyPercent === undefined ? {} : { busyPercent }) });
  }

  stop(): HostLoadSample[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.samples;
  }
}
