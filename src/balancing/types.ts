/**
 * Load-balancing pickers: the one interface every policy implements (seed 04.7.4).
 *
 * A picker chooses one endpoint among the *candidates* the `Balancer` hands it: the endpoints
 * that are healthy, not ejected, or all of them in panic mode. Pickers never look at health
 * themselves and never read a clock or `Math.random`: time comes from an injected `Clock`, and
 * randomness from an injected seeded `Rng`, so every pick sequence replays from its seed.
 * Deliberately left out: locality/zone-aware routing and priority levels (Envoy), subsetting.
 */

/** Policy names accepted by `createPicker`, the CLI `--policy` flag and the proxy config. */
export const POLICIES = [
  'round-robin',
  'weighted-round-robin',
  'edf',
  'least-connections',
  'p2c',
  'random',
  'consistent-hash',
  'peak-ewma',
] as const;
export type Policy = (typeof POLICIES)[number];

/** Short aliases users type (`rr`, `wrr`, `lc`, `ch`, `ewma`). */
export const POLICY_ALIASES: Readonly<Record<string, Policy>> = {
  rr: 'round-robin',
  wrr: 'weighted-round-robin',
  lc: 'least-connections',
  'least-request': 'p2c',
  ch: 'consistent-hash',
  hash: 'consistent-hash',
  ewma: 'peak-ewma',
};

/** What a picker sees of one endpoint. Owned and updated by the `Balancer`. */
export interface EndpointView {
  /** Operator-chosen id (an address such as `127.0.0.1:9101`, or a name). */
  readonly id: string;
  /** Stable small integer for array-indexed per-endpoint state; unique while the endpoint exists. */
  readonly slot: number;
  /** Configured weight (> 0). */
  readonly weight: number;
  /** Weight in force now: configured weight scaled by slow start (> 0). */
  readonly effectiveWeight: number;
  /** Requests started on this endpoint and not yet finished. */
  readonly active: number;
}

/** The eligible endpoints for one pick. */
export interface CandidateSet {
  /** Eligible endpoints, in a stable order (the order endpoints were added). Non-empty. */
  readonly list: readonly EndpointView[];
  /** Every endpoint the balancer knows, eligible or not (for sticky hashing over all). */
  readonly all: readonly EndpointView[];
  /** True when the endpoint in `slot` is in `list`. */
  isCandidate(slot: number): boolean;
  /** Changes whenever membership, eligibility or effective weights change. */
  readonly generation: number;
  /** Changes only when endpoints are added or removed or their configured weights change. */
  readonly membership: number;
}

/** Per-request input to a pick. */
export interface PickRequest {
  /** Hash key for `consistent-hash` (user id, session cookie...). Other policies ignore it. */
  readonly key?: string;
  /**
   * Endpoint slots to avoid when any other candidate exists (endpoints a retry already tried).
   * Consumed by the `Balancer`; pickers never see excluded endpoints.
   */
  readonly exclude?: ReadonlySet<number>;
}

/** How a request ended, reported back to the picker (and to outlier detection). */
export type Outcome = 'success' | 'failure';

export interface Picker {
  readonly policy: Policy;
  /** Chooses one endpoint from `candidates.list` (never empty). */
  pick(candidates: CandidateSet, request: PickRequest): EndpointView;
  /** A request finished on `endpoint` after `latencyMs`. Optional feedback. */
  observe?(endpoint: EndpointView, outcome: Outcome, latencyMs: number): void;
  /** `endpoint` was removed; drop per-endpoint state. */
  forget?(endpoint: EndpointView): void;
}

