/**
 * Hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone 2014, "Logical Physical Clocks
 * and Consistent Snapshots in Globally Distributed Databases"), the HLC algorithm of Figure 5:
 * a timestamp (l, c) where l is the largest physical time seen and c counts events within one l.
 * It satisfies e -> f => hlc(e) < hlc(f), stays within the clock skew of physical time, and fits
 * in the same place as an NTP timestamp. Physical time is passed in (sans-IO); a receive whose
 * remote l is further than `driftMaxMs` ahead of local physical time is rejected, as the paper
 * suggests, so one bad clock cannot drag the cluster into the future.
 * Leaves out: the 64-bit packing (48-bit l, 16-bit c); timestamps are two plain numbers.
 */
import { assert } from '../core/assert.ts';
import { InvalidArgumentError } from '../core/errors.ts';
import { compareNodeIds, type NodeId } from '../core/ids.ts';

export interface HlcTimestamp {
  /** Logical wall time: the largest physical time (ms) this clock has heard of. */
  readonly l: number;
  /** Counter of events that share the same `l`. */
  readonly c: number;
}

export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.l !== b.l) return a.l < b.l ? -1 : 1;
  if (a.c !== b.c) return a.c < b.c ? -1 : 1;
  return 0;
}

/** An HLC timestamp with the node that issued it: totally ordered by (l, c, node). */
export interface HlcStamp extends HlcTimestamp {
  readonly node: NodeId;
}

export function compareHlcStamp(a: HlcStamp, b: HlcStamp): number {
  return compareHlc(a, b) || compareNodeIds(a.node, b.node);
}

export interface HlcConfig {
  /** A remote timestamp more than this far ahead of local physical time is refused (ms). */
  driftMaxMs: number;
  /** Counter bound: `c` above this is an error (the paper bounds c by the event rate times the skew). */
  counterMax: number;
}

export const HLC_DEFAULTS: HlcConfig = { driftMaxMs: 60_000, counterMax: 0xffff };

/** Thrown when a remote timestamp is too far ahead of local physical time. */
export class ClockDriftError extends InvalidArgumentError {
  override name = 'ClockDriftError';
}

export class HybridLogicalClock {
  private l = 0;
  private c = 0;
  private readonly config: HlcConfig;

  constructor(config: Partial<HlcConfig> = {}) {
    this.config = { ...HLC_DEFAULTS, ...config };
    assert(this.config.driftMaxMs >= 0, `HLC driftMaxMs must be >= 0, got ${this.config.driftMaxMs}`);
  }

  /** The last timestamp issued or observed. */
  current(): HlcTimestamp {
    return { l: this.l, c: this.c };
  }

  /** A local or send event at physical time `ptMs`. */
  now(ptMs: number): HlcTimestamp {
    const lOld = this.l;
    this.l = Math.max(lOld, ptMs);
    this.c = this.l === lOld ? this.c + 1 : 0;
    this.checkCounter();
    return { l: this.l, c: this.c };
  }

  /**
   * A receive event at physical time `ptMs` of a message stamped `remote`. Throws
   * ClockDriftError (and leaves the clock unchanged) when remote.l - ptMs > driftMaxMs.
   */
  receive(remote: HlcTimestamp, ptMs: number): HlcTimestamp {
    if (remote.l - ptMs > this.config.driftMaxMs) {
      throw new ClockDriftError(
        `remote HLC time ${remote.l} ms is ${remote.l - ptMs} ms ahead of local physical time ${ptMs} ms (limit ${this.config.driftMaxMs} ms)`,
      );
    }
    const lOld = this.l;
    this.l = Math.max(lOld, remote.l, ptMs);
    if (this.l === lOld && this.l === remote.l) this.c = Math.max(this.c, remote.c) + 1;
    else if (this.l === lOld) this.c += 1;
    else if (this.l === remote.l) this.c = remote.c + 1;
    else this.c = 0;
    this.checkCounter();
    return { l: this.l, c: this.c };
  }

  private checkCounter(): void {
    if (this.c > this.config.counterMax) {
      throw new ClockDriftError(`HLC counter ${this.c} exceeds ${this.config.counterMax}: physical time is not advancing`);
    }
  }
}
