/**
 * Slow start (Envoy `slow_start_config`, HAProxy `slowstart`): a new endpoint, or one that
 * passed its health checks again, starts with a small share of its weight that grows over a
 * window: factor = max(minWeightPercent/100, (elapsed / windowMs)^(1/aggression)).
 * aggression 1 is a linear ramp; larger values ramp faster at first.
 */
import { ConfigError } from '../core/errors.ts';

export interface SlowStartOptions {
  /** Ramp duration, ms. 0 disables slow start. */
  readonly windowMs: number;
  /** Curve exponent 1/aggression; default 1 (linear). */
  readonly aggression?: number;
  /** Lower bound on the factor, percent. Default 10. */
  readonly minWeightPercent?: number;
}

export interface ResolvedSlowStart {
  readonly windowMs: number;
  readonly aggression: number;
  readonly minWeightPercent: number;
}

export function resolveSlowStart(o: SlowStartOptions): ResolvedSlowStart {
  const r = { windowMs: o.windowMs, aggression: o.aggression ?? 1, minWeightPercent: o.minWeightPercent ?? 10 };
  if (!(r.windowMs >= 0)) throw new ConfigError(`slow start windowMs must be >= 0, got ${r.windowMs}`);
  if (!(r.aggression > 0)) throw new ConfigError(`slow start aggression must be > 0, got ${r.aggression}`);
  if (!(r.minWeightPercent > 0 && r.minWeightPercent <= 100)) {
    throw new ConfigError(`slow start minWeightPercent must be in (0, 100], got ${r.minWeightPercent}`);
  }
  return r;
}

/** Weight factor in (0, 1] for an endpoint that entered slow start `elapsedMs` ago. */
export function slowStartFactor(elapsedMs: number, o: ResolvedSlowStart): number {
  if (o.windowMs === 0 || elapsedMs >= o.windowMs) return 1;
  const t = Math.max(0, elapsedMs) / o.windowMs;
  const f = o.aggression === 1 ? t : t ** (1 / o.aggression);
  return Math.max(o.minWeightPercent / 100, f);
}
