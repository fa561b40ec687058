/**
 * The run's randomness, from its seed: the same seed gives the same choices (when the fault hits,
 * which account each message goes to), so a run can be replayed. Mulberry32: small, fast, and
 * good enough for scheduling; not for secrets.
 */

/** The largest seed: the generator's state is 32 bits, so 2^32+5 would act exactly like 5. */
export const MAX_SEED = 2 ** 32 - 1;

export class SeededRandom {
  private state: number;

  /** `seed`: an integer from 0 to {@link MAX_SEED}; anything else would silently alias another seed (`>>> 0`). */
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
      throw new RangeError(`seed ${String(seed)} is not an integer from 0 to ${MAX_SEED} (2^32-1): it would replay as another seed`);
    }
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An independent stream for one consumer (e.g. the workload), so consumers do not shift each other's draws. */
  fork(label: string): SeededRandom {
    let h = this.seed >>> 0;
    for (const c of label) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1) >>> 0;
    return new SeededRandom(h);
  }
}
