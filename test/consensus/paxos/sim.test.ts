/**
 * Seeded simulation of the Multi-Paxos KV register: every seed runs the nemesis (partitions,
 * swizzle-clog, crashes losing unsynced writes, pauses, loss, duplication, reordering, forced
 * elections), checks the Paxos invariants after every event, requires convergence after healing,
 * and checks the client history for linearizability.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/core/errors.ts';
import { paxosReplayCommand, paxosScenario, quorumFromParams, runPaxos } from '../../../src/scenarios/paxos-scenario.ts';
import type { ScenarioOptions } from '../../../src/scenarios/types.ts';
import { ALL_FAULTS } from '../../../src/sim/nemesis.ts';
import { SimFailure } from '../../../src/sim/simulator.ts';

/** Seeds that once failed, kept forever as regression tests. */
export const REGRESSION_SEEDS: readonly { seed: number; nodes: number; params: Record<string, string>; why: string }[] = [
  {
    seed: 400505,
    nodes: 3,
    params: {},
    why: 'a duplicated write request was proposed once and queued again; the queued copy was dropped at a step-down and answered fail while the proposed copy was chosen (dropped commands now redirect)',
  },
  { seed: 400819, nodes: 3, params: {}, why: 'same as 400505' },
  { seed: 401412, nodes: 3, params: {}, why: 'same as 400505' },
];

function options(seed: number, nodes: number, params: Record<string, string> = {}, durationMs = 1500, ops = 80): ScenarioOptions {
  return { seed, nodes, durationMs, ops, faults: [...ALL_FAULTS], params };
}

function runSeed(o: ScenarioOptions): void {
  let result: ReturnType<typeof paxosScenario.run>;
  try {
    result = paxosScenario.run(o);
  } catch (err) {
    if (err instanceof SimFailure) assert.fail(`seed ${o.seed} failed: ${err.message}\nreplay: ${paxosReplayCommand(o)}`);
    throw err;
  }
  assert.ok(result.ok, `seed ${o.seed}: ${result.headline}\nreplay: ${paxosReplayCommand(o)}`);
}

describe('paxos simulation', () => {
  it('regression seeds still pass', () => {
    for (const r of REGRESSION_SEEDS) runSeed(options(r.seed, r.nodes, r.params, 2000, 150));
  });

  it('200 seeds, 3 replicas, majority quorums', () => {
    for (let seed = 1; seed <= 200; seed++) runSeed(options(seed, 3));
  });

  it('40 seeds, 5 replicas, majority quorums', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(options(10_000 + seed, 5));
  });

  it('40 seeds, 5 replicas, Flexible Paxos q1=4 q2=2', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(options(20_000 + seed, 5, { quorum: 'flexible', q1: '4', q2: '2' }));
  });

  it('40 seeds with a window of 1 slot (heavy batching) and no forced elections', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(options(30_000 + seed, 3, { window: '1', campaigns: 'false' }));
  });

  it('40 seeds with 8 clients and a window of 8 slots', () => {
    for (let seed = 1; seed <= 40; seed++) runSeed(options(40_000 + seed, 3, { window: '8', clients: '8' }));
  });

  it('leader changes that find a gap fill it with a no-op, and the history stays linearizable', () => {
    // Gaps are rare under the nemesis (slot s lost to every follower, s + 1 delivered, then a
    // leader change before the resend): search this variant's seeds for the first one.
    let found = 0;
    for (let seed = 40_001; seed <= 40_300 && found === 0; seed++) {
      const r = paxosScenario.run(options(seed, 3, { window: '8', clients: '8' }));
      assert.ok(r.ok, `seed ${seed}: ${r.headline}`);
      if (Number(r.summary.noopsChosen) > 0) found = seed;
    }
    assert.ok(found > 0, 'some seed chose a no-op');
  });

  it('the same seed replays to the same trace, and the run commits and batches', () => {
    const a = runPaxos(options(7, 3));
    const b = runPaxos(options(7, 3));
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
    assert.ok(a.checker.maxChosenSlot > 10, 'the run chose slots');
    assert.ok(a.checker.leaders.size >= 2, 'faults and forced elections changed the leader');
  });

  it('a host that sends before fsync is caught (the checkers can fail)', () => {
    let failures = 0;
    for (let seed = 1; seed <= 100 && failures === 0; seed++) {
      try {
        const r = paxosScenario.run(options(seed, 3, { unsafe: 'true' }, 2000, 150));
        if (!r.ok) failures++;
      } catch (err) {
        if (err instanceof SimFailure) failures++;
        else throw err;
      }
    }
    assert.ok(failures > 0, 'replying before the promise is durable must break an invariant under crashes in some seed');
  });

  it('quorum parameters are validated: flexible quorums must intersect', () => {
    assert.deepEqual(quorumFromParams(5, { quorum: 'flexible' }), { kind: 'flexible', q1: 4, q2: 2 });
    assert.throws(() => quorumFromParams(5, { quorum: 'flexible', q1: '3', q2: '2' }), ConfigError);
    assert.throws(() => quorumFromParams(5, { q1: '3' }), /need --set quorum=flexible/);
    assert.throws(() => quorumFromParams(5, { quorum: 'grid' }), /'majority' or 'flexible'/);
  });
});

describe('clusterkit sim paxos', () => {
  const bin = fileURLToPath(new URL('../../../bin/clusterkit.mjs', import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

  it('runs a flexible-quorum seed and reports q1/q2', () => {
    const r = run('sim', 'paxos', '--seed', '3', '--nodes', '5', '--duration', '1s', '--ops', '40', '--set', 'quorum=flexible', '--set', 'q1=4', '--set', 'q2=2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok: paxos \(q1=4, q2=2\): 40 ops/);
    assert.match(r.stdout, /linearizable/);
  });

  it('non-intersecting quorums exit 2 with the rule in the message', () => {
    const r = run('sim', 'paxos', '--nodes', '5', '--set', 'quorum=flexible', '--set', 'q1=2', '--set', 'q2=3');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\|Q1\| \+ \|Q2\| > N/);
  });
});
