/**
 * Service-discovery latency model.
 *
 * Implements the seed's `L_discovery = L_register + L_query + L_select` (04.5.4) for its three
 * discovery models (client-side 04.5.1, server-side 04.5.2, service registry 04.5.3), as a
 * function of latencies the user supplies or later modules measure, and carries the seed's
 * qualitative comparison table (low / medium) so both can be shown side by side.
 *
 * `L_register` is paid once when an instance starts (or changes), not on every request; the
 * per-request cost is `L_query + L_select` (plus, for server-side discovery, the extra hop
 * through the load balancer on every request). The model leaves out queueing at the registry
 * and staleness (how long a dead instance keeps being returned); see docs/models.md.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { unreachable } from '../core/assert.ts';
import { checkProbability } from './availability.ts';

export const DISCOVERY_MODELS = ['client-side', 'server-side', 'registry'] as const;
export type DiscoveryModel = (typeof DISCOVERY_MODELS)[number];

export type LatencyRating = 'low' | 'medium' | 'high';

/** Seed 04.5.4's comparison table, verbatim. */
export const SEED_DISCOVERY_TABLE: Readonly<
  Record<DiscoveryModel, { readonly register: LatencyRating; readonly query: LatencyRating; readonly select: LatencyRating; readonly total: LatencyRating }>
> = {
  'client-side': { register: 'low', query: 'low', select: 'low', total: 'low' },
  'server-side': { register: 'low', query: 'medium', select: 'low', total: 'medium' },
  registry: { register: 'low', query: 'low', select: 'low', total: 'low' },
};

/** Technologies the seed names for each model (04.5.1–04.5.3). */
export const DISCOVERY_TECHNOLOGIES: Readonly<Record<DiscoveryModel, readonly string[]>> = {
  'client-side': ['Netflix Eureka', 'Consul Client'],
  'server-side': ['Kubernetes Service', 'AWS ELB', 'Ingress Controller'],
  registry: ['etcd', 'Consul', 'ZooKeeper', 'CoreDNS'],
};

export interface DiscoveryInputs {
  /** Time for an instance's registration to become visible in the registry (a consensus write for etcd/Consul). */
  readonly registerMs: number;
  /** One round trip from a client (or load balancer) to the registry, including its service time. */
  readonly registryRttMs: number;
  /** Fraction of lookups answered from a local cache (client cache, DNS TTL, LB endpoint list). */
  readonly cacheHitRatio: number;
  /** Time to pick an instance from the list (the load-balancing decision). */
  readonly selectMs: number;
  /** Extra network hop through a load balancer / proxy, paid per request by server-side discovery. */
  readonly lbHopMs: number;
}

/** Defaults for one data centre: 1 ms registry RTT, a consensus write of ~5 ms, warm caches. */
export const DEFAULT_DISCOVERY_INPUTS: DiscoveryInputs = {
  registerMs: 5,
  registryRttMs: 1,
  cacheHitRatio: 0.9,
  selectMs: 0.01,
  lbHopMs: 0.5,
};

export interface DiscoveryLatency {
  readonly model: DiscoveryModel;
  readonly registerMs: number;
  /** Expected per-request query cost. */
  readonly queryMs: number;
  readonly selectMs: number;
  /** Seed's total: register + query + select. */
  readonly totalMs: number;
  /** What a request pays once the instance is registered: query + select. */
  readonly perRequestMs: number;
  readonly path: string;
}

function checkLatency(name: string, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError(`${name} must be a non-negative number of milliseconds, got ${ms}`);
}

export function checkDiscoveryInputs(i: DiscoveryInputs): void {
  checkLatency('registerMs', i.registerMs);
  checkLatency('registryRttMs', i.registryRttMs);
  checkLatency('selectMs', i.selectMs);
  checkLatency('lbHopMs', i.lbHopMs);
  checkProbability('cacheHitRatio', i.cacheHitRatio);
}

/** Seed 04.5.4: `L = L_register + L_query + L_select` for one discovery model. */
export function discoveryLatency(model: DiscoveryModel, inputs: DiscoveryInputs): DiscoveryLatency {
  checkDiscoveryInputs(inputs);
  const miss = 1 - inputs.cacheHitRatio;
  let queryMs: number;
  let path: string;
  switch (model) {
    case 'client-side':
      // The client asks the registry on a cache miss and connects directly.
      queryMs = miss * inputs.registryRttMs;
      path = 'Client → Service Registry → Service Instance';
      break;
    case 'server-side':
      // Every request crosses the load balancer, which refreshes its list on a miss.
      queryMs = inputs.lbHopMs + miss * inputs.registryRttMs;
      path = 'Client → Load Balancer → Service Registry → Service Instance';
      break;
    case 'registry':
      // A name lookup (DNS / KV) per cache miss; same shape as client-side, no client library.
      queryMs = miss * inputs.registryRttMs;
      path = 'Service Instance → Service Registry ← Client';
      break;
    default:
      return unreachable(model, 'discovery model');
  }
  const totalMs = inputs.registerMs + queryMs + inputs.selectMs;
  return { model, registerMs: inputs.registerMs, queryMs, selectMs: inputs.selectMs, totalMs, perRequestMs: queryMs + inputs.selectMs, path };
}

/**
 * Rates a latency against a reference the way the seed's table does: `low` up to the reference,
 * `medium` up to ten times it, `high` beyond.
 */
export function rateLatency(ms: number, referenceMs: number): LatencyRating {
  if (ms <= referenceMs) return 'low';
  if (ms <= 10 * referenceMs) return 'medium';
  return 'high';
}

export interface DiscoveryComparisonRow extends DiscoveryLatency {
  readonly seedTotal: LatencyRating;
  /** The per-request latency rated against the cheapest model's. */
  readonly computedRating: LatencyRating;
  readonly technologies: readonly string[];
}

/** All three models under the same inputs, with the seed's rating beside the computed one. */
export function compareDiscovery(inputs: DiscoveryInputs = DEFAULT_DISCOVERY_INPUTS): DiscoveryComparisonRow[] {
  const rows = DISCOVERY_MODELS.map((m) => discoveryLatency(m, inputs));
  const best = Math.min(...rows.map((r) => r.perRequestMs));
  // A floor of 1 µs keeps a zero-cost best case from making every other model "high".
  const reference = Math.max(best, 0.001) * 2;
  return rows.map((r) => ({
    ...r,
    seedTotal: SEED_DISCOVERY_TABLE[r.model].total,
    computedRating: rateLatency(r.perRequestMs, reference),
    technologies: DISCOVERY_TECHNOLOGIES[r.model],
  }));
}
