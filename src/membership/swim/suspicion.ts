/**
 * Lifeguard's dynamic suspicion timeout (Dadgar et al. 2018 §IV-B; memberlist suspicion.go).
 * A suspicion starts at `max` and shrinks towards `min` as independent members confirm it:
 * `timeout(C) = max(min, max − (max − min) · log(C + 1) / log(K + 1))` for C confirmations out of
 * K expected. Sans-IO: it computes a deadline; the member checks it on `tick`.
 */

export function suspicionTimeoutMs(confirmations: number, expected: number, minMs: number, maxMs: number): number {
  if (expected < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(expected + 1);
  const raw = Math.floor(maxMs - frac * (maxMs - minMs));
  return Math.max(minMs, raw);
}

export class Suspicion {
  readonly startMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** K, confirmations that bring the timeout down to `min`. */
  readonly expected: number;
  /** Members that raised or confirmed this suspicion (the first raiser does not count as a confirmation). */
  private readonly confirmers = new Set<string>();
  private confirmed = 0;

  constructor(from: string, startMs: number, minMs: number, maxMs: number, expected: number) {
    this.startMs = startMs;
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.expected = expected;
    this.confirmers.add(from);
  }

  get confirmations(): number {
    return this.confirmed;
  }

  /** Records an independent confirmation; true if it was new and counted (then the deadline moved). */
  confirm(from: string): boolean {
    if (this.confirmed >= this.expected) return false;
    if (this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    this.confirmed++;
    return true;
  }

  timeoutMs(): number {
    return suspicionTimeoutMs(this.confirmed, this.expected, this.minMs, this.maxMs);
  }

  deadlineMs(): number {
    return this.startMs + this.timeoutMs();
  }
}
