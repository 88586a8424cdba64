/**
 * The simulated network's configuration: per-link latency distributions and the fault rates
 * applied to every message. Faults that change over a run (partitions, clogs) live in the
 * simulator itself; this module is the static part and the latency sampling.
 */
import type { Rng } from '../core/rng.ts';

/** Latency of one message on a link, ms. */
export type LatencyModel =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** minMs plus an exponential with mean meanExtraMs, capped at maxMs (a long-tailed LAN). */
  | { kind: 'exponential'; minMs: number; meanExtraMs: number; maxMs: number };

export interface NetworkConfig {
  /** Default latency for every link. `{ min, max }` is shorthand for uniform. */
  latencyMs: LatencyModel | { min: number; max: number };
  /** Probability that a message is dropped. */
  lossRate: number;
  /** Probability that a message is delivered twice (the copy gets its own latency). */
  duplicateRate: number;
  /** Probability that a message gets an extra delay in [0, reorderDelayMaxMs] (reordering). */
  reorderRate: number;
  reorderDelayMaxMs: number;
  /** Deliver messages on each link in send order (like TCP). Disables reordering on that link. */
  fifo: boolean;
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  latencyMs: { kind: 'uniform', minMs: 1, maxMs: 5 },
  lossRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMaxMs: 50,
  fifo: false,
};

export function normalizeLatency(model: NetworkConfig['latencyMs']): LatencyModel {
  if ('kind' in model) return model;
  return { kind: 'uniform', minMs: model.min, maxMs: model.max };
}

export function sampleLatency(model: LatencyModel, rng: Rng): number {
  switch (model.kind) {
    case 'fixed':
      return model.ms;
    case 'uniform':
      return model.minMs + rng.float() * (model.maxMs - model.minMs);
    case 'exponential':
      return Math.min(model.maxMs, model.minMs + rng.exponential(model.meanExtraMs));
  }
}

export function validateNetworkConfig(c: NetworkConfig): void {
  for (const [name, p] of [
    ['lossRate', c.lossRate],
    ['duplicateRate', c.duplicateRate],
    ['reorderRate', c.reorderRate],
  ] as const) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`network.${name} must be in [0, 1], got ${p}`);
  }
  const l = normalizeLatency(c.latencyMs);
  const lo = l.kind === 'fixed' ? l.ms : l.minMs;
  if (!(lo >= 0)) throw new RangeError('network latency must be >= 0 ms');
  if (l.kind !== 'fixed' && l.maxMs < l.minMs) throw new RangeError('network latency max must be >= min');
}
