/**
 * Seeded simulation of the Raft KV register: every seed runs the nemesis (partitions,
 * swizzle-clog, crashes losing unsynced writes, pauses, loss, duplication, reordering,
 * membership changes, leadership transfers), checks the Raft invariants after every event,
 * requires convergence after healing, and checks the client history for linearizability.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_FAULTS } from '../../../src/sim/nemesis.ts';
import { SimFailure } from '../../../src/sim/simulator.ts';
import { raftScenario, replayCommand, runRaft } from '../../../src/scenarios/raft-scenario.ts';
import type { ScenarioOptions } from '../../../src/scenarios/types.ts';

/** Seeds that once failed (any variant), kept forever as regression tests. */
export const REGRESSION_SEEDS: readonly { seed: number; nodes: number; params: Record<string, string>; why: string }[] = [
  { seed: 150, nodes: 3, params: {}, why: 'replicate-state window full of lost appends never recovered (heartbeat response now frees one slot)' },
  { seed: 152, nodes: 3, params: {}, why: 'same as 150' },
];

function options(seed: number, nodes: number, params: Record<string, string> = {}, durationMs = 1500, ops = 80): ScenarioOptions {
  return { seed, nodes, durationMs, ops, faults: [...ALL_FAULTS], params };
}

function runSeed(o: ScenarioOptions): void {
  let result: ReturnType<typeof raftScenario.run>;
  try {
    result = raftScenario.run(o);
  } catch (err) {
    if (err instanceof SimFailure) assert.fail(`seed ${o.seed} failed: ${err.message}\nreplay: ${replayCommand(o)}`);
    throw err;
  }
  assert.ok(result.ok, `seed ${o.seed}: ${result.headline}\nreplay: ${replayCommand(o)}`);
}

describe('raft simulation', () => {
  it('regression seeds still pass', () => {
    for (const r of REGRESSION_SEEDS) runSeed(options(r.seed, r.nodes, r.params, 2000, 150));
  });

  it('400 seeds, 3 voters + 1 spare, ReadIndex reads, batching on', () => {
    for (let seed = 1; seed <= 400; seed++) runSeed(options(seed, 3));
  });

  it('60 seeds, 5 voters + 1 spare', () => {
    for (let seed = 1; seed <= 60; seed++) runSeed(options(10_000 + seed, 5));
  });

  it('60 seeds with leader-lease reads (no pause faults: the lease assumes bounded clock drift)', () => {
    for (let seed = 1; seed <= 60; seed++) runSeed(options(20_000 + seed, 3, { reads: 'lease' }));
  });

  it('40 seeds with batching off', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(options(30_000 + seed, 3, { batch: 'false' }));
  });

  it('the same seed replays to the same trace', () => {
    const a = runRaft(options(7, 3));
    const b = runRaft(options(7, 3));
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
    assert.ok(a.checker.maxAppliedIndex > 10, 'the run committed entries');
  });

  it('a host that sends before fsync is caught (the checkers can fail)', () => {
    let failures = 0;
    for (let seed = 1; seed <= 120; seed++) {
      try {
        const r = raftScenario.run(options(seed, 3, { unsafe: 'true' }, 2000, 150));
        if (!r.ok) failures++;
      } catch (err) {
        if (err instanceof SimFailure) failures++;
        else throw err;
      }
    }
    assert.ok(failures > 0, 'sending acknowledgements before fsync must lose data under crashes in some seed');
  });
});
