import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCausalKv } from '../../src/scenarios/causal-kv-scenario.ts';
import { runCrdtMap } from '../../src/scenarios/crdt-map-scenario.ts';
import type { ScenarioOptions } from '../../src/scenarios/types.ts';
import { ALL_FAULTS } from '../../src/sim/nemesis.ts';

const opts = (seed: number, extra: Partial<ScenarioOptions> = {}): ScenarioOptions => ({
  seed,
  nodes: 5,
  durationMs: 3000,
  ops: 150,
  faults: ALL_FAULTS,
  params: {},
  ...extra,
});

describe('simulator: replicated CRDT map under the nemesis', () => {
  it('every replica converges after heal and no acknowledged update is lost (15 seeds, all faults)', () => {
    for (let seed = 1; seed <= 15; seed++) {
      const run = runCrdtMap(opts(seed));
      assert.ok(run.writes.length > 100, `seed ${seed}: ${run.writes.length} writes`);
      assert.deepEqual(run.lost, [], `seed ${seed}`);
      assert.ok(run.convergeMs < 60_000);
    }
  });
  it('acknowledging before persisting loses updates at crashes, and the check catches it', () => {
    let caught = 0;
    for (let seed = 1; seed <= 5; seed++) {
      const run = runCrdtMap(opts(seed, { params: { unsafe: 'true', roundMs: '200', keys: '100' } }));
      if (run.lost.length > 0) caught++;
    }
    assert.ok(caught >= 3, `caught ${caught} of 5`);
  });
  it('is deterministic: the same seed gives the same trace', () => {
    const a = runCrdtMap(opts(42));
    const b = runCrdtMap(opts(42));
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
    assert.equal(a.convergeMs, b.convergeMs);
  });
});

describe('simulator: causal KV under the nemesis', () => {
  it('causal delivery never violates causal order; every replica applies every put and agrees (15 seeds, all faults)', () => {
    for (let seed = 1; seed <= 15; seed++) {
      const run = runCausalKv(opts(seed, { nodes: 4 }));
      assert.ok(run.puts.length > 100, `seed ${seed}: ${run.puts.length} puts`);
      assert.deepEqual(run.violations, [], `seed ${seed}`);
      assert.ok(run.deliveries >= run.puts.length, `seed ${seed}: ${run.deliveries} deliveries`);
    }
  });
  it('delivering on receipt (no causal buffering) is caught by the checker', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const run = runCausalKv(opts(seed, { nodes: 4, params: { unsafe: 'true' } }));
      assert.ok(run.violations.some((v) => /before its causal predecessor/.test(v)), `seed ${seed}`);
    }
  });
});
