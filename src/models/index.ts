/**
 * models/: the seed's closed-form models (availability, connectivity, discovery latency, gossip
 * rounds, quorum arithmetic, load-balancing formulas), the quorum-aware models that replace the
 * naive ones, Monte Carlo checks, and the advisor. Depends on core only.
 */
export * from './availability.ts';
export * from './connectivity.ts';
export * from './discovery.ts';
export * from './gossip.ts';
export * from './quorum.ts';
export * from './loadBalancing.ts';
export * from './monteCarlo.ts';
export * from './advisor.ts';
export * from './consistency.ts';
