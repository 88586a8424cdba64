import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareDiscovery, DEFAULT_DISCOVERY_INPUTS, discoveryLatency, SEED_DISCOVERY_TABLE } from '../../src/models/discovery.ts';

describe('models/discovery: seed 04.5.4 L = L_register + L_query + L_select', () => {
  it('sums the three terms', () => {
    const inputs = { registerMs: 5, registryRttMs: 2, cacheHitRatio: 0, selectMs: 0.1, lbHopMs: 1 };
    const c = discoveryLatency('client-side', inputs);
    assert.equal(c.queryMs, 2);
    assert.ok(Math.abs(c.totalMs - 7.1) < 1e-12);
    const s = discoveryLatency('server-side', inputs);
    assert.equal(s.queryMs, 3, 'server-side adds the load-balancer hop');
    assert.ok(Math.abs(s.perRequestMs - 3.1) < 1e-12);
  });
  it('a warm cache removes most of the query cost', () => {
    const cold = discoveryLatency('registry', { ...DEFAULT_DISCOVERY_INPUTS, cacheHitRatio: 0 });
    const warm = discoveryLatency('registry', { ...DEFAULT_DISCOVERY_INPUTS, cacheHitRatio: 0.99 });
    assert.ok(warm.queryMs < cold.queryMs / 50);
  });
  it("with the defaults the computed ratings reproduce the seed's table (server-side medium, the others low)", () => {
    for (const row of compareDiscovery()) assert.equal(row.computedRating, SEED_DISCOVERY_TABLE[row.model].total, row.model);
  });
  it('rejects negative latencies and cache ratios outside [0, 1]', () => {
    assert.throws(() => discoveryLatency('registry', { ...DEFAULT_DISCOVERY_INPUTS, registryRttMs: -1 }), /registryRttMs/);
    assert.throws(() => discoveryLatency('registry', { ...DEFAULT_DISCOVERY_INPUTS, cacheHitRatio: 1.5 }), /cacheHitRatio/);
  });
});
