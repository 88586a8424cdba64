import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import {
  atLeastKOfN,
  centralAvailability,
  hybridAvailability,
  majorityQuorumAvailability,
  replicationAvailability,
  sameAvailability,
} from '../../src/models/availability.ts';
import { monteCarloAvailability, normalQuantile, type AvailabilityStructure, studentTQuantile } from '../../src/models/monteCarlo.ts';

// MTBF/MTTR pairs giving the seed's per-node availabilities: 99/1 → 0.99, 19/1 → 0.95.
const master = { mtbf: 99, mttr: 1 };
const worker = { mtbf: 19, mttr: 1 };
const workers = (n: number) => Array.from({ length: n }, () => worker);

function run(nodes: { mtbf: number; mttr: number }[], structure: AvailabilityStructure, seed: number) {
  return monteCarloAvailability({ nodes, structure, horizon: 20_000, runs: 20, confidence: 0.99, rng: createRng(seed) });
}

describe('models/monteCarlo: closed forms fall inside the simulated 99% interval', () => {
  it('centralized (seed 04.3.1): 0.99·0.95^10', () => {
    const r = run([master, ...workers(10)], { kind: 'hybrid', masters: 1, masterRule: 'all', workersNeeded: 10 }, 1);
    assert.ok(Math.abs(r.closedForm - centralAvailability(0.99, sameAvailability(10, 0.95))) < 1e-12);
    assert.ok(r.closedFormInside, `${r.closedForm} outside [${r.lower}, ${r.upper}]`);
    assert.ok(r.halfWidth < 0.01, `interval too wide to check anything: ${r.halfWidth}`);
  });
  it('hybrid (seed 04.3.3): (1 - 0.01^3)·0.95^10', () => {
    const r = run([master, master, master, ...workers(10)], { kind: 'hybrid', masters: 3, masterRule: 'any', workersNeeded: 10 }, 2);
    assert.ok(Math.abs(r.closedForm - hybridAvailability(sameAvailability(3, 0.99), sameAvailability(10, 0.95))) < 1e-12);
    assert.ok(r.closedFormInside, `${r.closedForm} outside [${r.lower}, ${r.upper}]`);
  });
  it('replication (seed 04.3.2): 1 - 0.05^3', () => {
    const r = run(workers(3), { kind: 'parallel' }, 3);
    assert.ok(Math.abs(r.closedForm - replicationAvailability(sameAvailability(3, 0.95))) < 1e-12);
    assert.ok(r.closedFormInside, `${r.closedForm} outside [${r.lower}, ${r.upper}]`);
  });
  it('majority of 3 (Raft) and hybrid with master quorum + 8 of 10 workers', () => {
    const maj = run(workers(3), { kind: 'majority' }, 4);
    assert.ok(maj.closedFormInside, `${maj.closedForm} outside [${maj.lower}, ${maj.upper}]`);
    const hy = run([master, master, master, ...workers(10)], { kind: 'hybrid', masters: 3, masterRule: 'majority', workersNeeded: 8 }, 5);
    assert.ok(hy.closedFormInside, `${hy.closedForm} outside [${hy.lower}, ${hy.upper}]`);
  });
  it("heterogeneous k-of-n: 3 of 5 with mixed MTBFs", () => {
    const nodes = [
      { mtbf: 9, mttr: 1 },
      { mtbf: 19, mttr: 1 },
      { mtbf: 49, mttr: 1 },
      { mtbf: 4, mttr: 1 },
      { mtbf: 99, mttr: 1 },
    ];
    const r = run(nodes, { kind: 'k-of-n', k: 3 }, 6);
    assert.ok(r.closedFormInside, `${r.closedForm} outside [${r.lower}, ${r.upper}]`);
  });
  it("the simulation can tell the models apart: a Raft group's interval excludes the seed's 1 - Π(1 - A)", () => {
    const r = run(workers(3), { kind: 'majority' }, 7);
    const seed = replicationAvailability(sameAvailability(3, 0.95));
    assert.ok(seed > r.upper, `seed's ${seed} should be above the interval [${r.lower}, ${r.upper}]`);
  });
  it('says when it saw no outage at all (a degenerate interval proves nothing)', () => {
    const r = monteCarloAvailability({ nodes: [{ mtbf: 1e6, mttr: 1 }, { mtbf: 1e6, mttr: 1 }], structure: { kind: 'parallel' }, horizon: 100, runs: 5, rng: createRng(1) });
    assert.equal(r.conclusive, false);
    assert.equal(r.estimate, 1);
    const seen = run(workers(3), { kind: 'majority' }, 10);
    assert.equal(seen.conclusive, true);
  });
  it('is reproducible: the same seed gives the same estimate', () => {
    const a = run(workers(3), { kind: 'majority' }, 8);
    const b = run(workers(3), { kind: 'majority' }, 8);
    assert.equal(a.estimate, b.estimate);
    assert.equal(a.events, b.events);
  });
  it('refuses runs that exceed the event limit and bad options', () => {
    assert.throws(
      () => monteCarloAvailability({ nodes: workers(10), structure: { kind: 'series' }, horizon: 1e9, runs: 10, rng: createRng(1) }),
      /limit/,
    );
    assert.throws(() => monteCarloAvailability({ nodes: workers(3), structure: { kind: 'k-of-n', k: 4 }, horizon: 10, runs: 2, rng: createRng(1) }), /k must/);
    assert.throws(() => monteCarloAvailability({ nodes: workers(3), structure: { kind: 'series' }, horizon: 10, runs: 1, rng: createRng(1) }), /runs/);
  });
});

describe('models/monteCarlo: quantiles', () => {
  it('normal quantiles: 0.975 → 1.959964, 0.995 → 2.575829', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.995) - 2.575829) < 1e-6);
    assert.ok(Math.abs(normalQuantile(0.001) + 3.090232) < 1e-6);
  });
  it('Student t quantiles match tables: t(0.975, 19) = 2.093, t(0.975, 4) = 2.776, t(0.995, 9) = 3.250', () => {
    assert.ok(Math.abs(studentTQuantile(0.975, 19) - 2.093) < 0.002);
    assert.ok(Math.abs(studentTQuantile(0.975, 4) - 2.776) < 0.005);
    assert.ok(Math.abs(studentTQuantile(0.995, 9) - 3.25) < 0.005);
  });
});

describe('models/monteCarlo: stacked control plane (voters also run workloads)', () => {
  it('the joint closed form falls inside the interval: 5 machines at 0.95, Raft on 3, 4 machines needed', () => {
    const r = run(workers(5), { kind: 'stacked', voters: 3, voterRule: 'majority', nodesNeeded: 4 }, 9);
    assert.ok(r.closedFormInside, `${r.closedForm} outside [${r.lower}, ${r.upper}]`);
    // Treating the two conditions as independent would be wrong: the product differs from the joint value.
    const product = majorityQuorumAvailability(sameAvailability(3, 0.95)) * atLeastKOfN(sameAvailability(5, 0.95), 4);
    assert.ok(Math.abs(product - r.closedForm) > 1e-3, `product ${product} vs joint ${r.closedForm}`);
  });
});
