/**
 * Lifeguard's local health multiplier (LHM), Dadgar et al. 2018 §IV-A, shaped like memberlist's
 * awareness.go. A score in [0, max − 1] rises when this member sees evidence that it is itself
 * slow (a probe missing its ack with no nacks to explain it, having to refute a suspicion about
 * itself) and falls on every successful probe. Timeouts are scaled by `score + 1`, so a starved
 * member probes less often and waits longer instead of accusing healthy peers.
 */
export class Awareness {
  private scoreValue = 0;
  private readonly scoreMax: number;

  /** `maxMultiplier` is memberlist's AwarenessMaxMultiplier: the score stays below it. */
  constructor(maxMultiplier: number) {
    this.scoreMax = Math.max(0, maxMultiplier - 1);
  }

  get score(): number {
    return this.scoreValue;
  }

  applyDelta(delta: number): void {
    this.scoreValue = Math.min(this.scoreMax, Math.max(0, this.scoreValue + delta));
  }

  /** `timeoutMs · (score + 1)`. */
  scaleMs(timeoutMs: number): number {
    return timeoutMs * (this.scoreValue + 1);
  }
}
