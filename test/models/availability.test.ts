import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/core/errors.ts';
import {
  atLeastKOfN,
  availabilityFromMtbf,
  centralAvailability,
  compareAvailability,
  downtimeMinutesPerYear,
  fewerThanKOfN,
  generalClusterAvailability,
  hybridAvailability,
  hybridQuorumAvailability,
  majorityOf,
  majorityQuorumAvailability,
  nines,
  parallelAvailability,
  replicasForTarget,
  replicationAvailability,
  sameAvailability,
  seriesAvailability,
  stackedQuorumAvailability,
  upCountDistribution,
} from '../../src/models/availability.ts';

const close = (actual: number, expected: number, tol = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected} ± ${tol}, got ${actual}`);

/** Brute force over all 2^n up/down states: the reference the DP must match. */
function bruteAtLeast(as: readonly number[], k: number): number {
  let total = 0;
  for (let mask = 0; mask < 1 << as.length; mask++) {
    let p = 1;
    let up = 0;
    as.forEach((a, i) => {
      if (mask & (1 << i)) {
        p *= a;
        up++;
      } else p *= 1 - a;
    });
    if (up >= k) total += p;
  }
  return total;
}

describe('models/availability: seed worked examples (04.3.4)', () => {
  it('centralized: A_M = 0.99, 10 workers at 0.95 gives 0.99·0.95^10 ≈ 0.5928 (the seed rounds to 0.60)', () => {
    const a = centralAvailability(0.99, sameAvailability(10, 0.95));
    close(a, 0.99 * 0.95 ** 10);
    assert.equal(a.toFixed(4), '0.5927');
    assert.equal(a.toFixed(2), '0.59');
    assert.equal(Math.round(a * 10) / 10, 0.6);
  });
  it('distributed: 3 nodes at 0.95 give 1 - 0.05^3 = 0.999875', () => {
    close(replicationAvailability(sameAvailability(3, 0.95)), 0.999875);
  });
  it('hybrid: 3 masters at 0.99, 10 workers at 0.95 give (1 - 0.01^3)·0.95^10 ≈ 0.5987', () => {
    const a = hybridAvailability(sameAvailability(3, 0.99), sameAvailability(10, 0.95));
    close(a, (1 - 0.01 ** 3) * 0.95 ** 10);
    assert.equal(a.toFixed(4), '0.5987');
  });
  it('general form 04.3.4 multiplies every manager and node (one manager reduces to the centralized form)', () => {
    close(generalClusterAvailability([0.99], sameAvailability(10, 0.95)), centralAvailability(0.99, sameAvailability(10, 0.95)));
    close(generalClusterAvailability(sameAvailability(3, 0.99), sameAvailability(2, 0.9)), 0.99 ** 3 * 0.81);
  });
  it('empty products: no workers means the master alone; no replicas means never up', () => {
    close(centralAvailability(0.9, []), 0.9);
    close(parallelAvailability([]), 0);
    close(seriesAvailability([]), 1);
  });
});

describe('models/availability: k-of-n (Poisson-binomial DP)', () => {
  it('the distribution sums to 1 and matches the binomial for identical nodes', () => {
    const pmf = upCountDistribution(sameAvailability(5, 0.9));
    close(
      pmf.reduce((a, b) => a + b, 0),
      1,
    );
    close(pmf[3] ?? 0, 10 * 0.9 ** 3 * 0.1 ** 2);
  });
  it('matches brute force over all states for heterogeneous nodes', () => {
    const as = [0.99, 0.95, 0.9, 0.8, 0.5, 0.999, 0.7];
    for (let k = 0; k <= as.length; k++) close(atLeastKOfN(as, k), bruteAtLeast(as, k), 1e-14);
  });
  it('1-of-n is the parallel form and n-of-n the series form', () => {
    const as = [0.9, 0.8, 0.7];
    close(atLeastKOfN(as, 1), parallelAvailability(as));
    close(atLeastKOfN(as, 3), seriesAvailability(as));
    close(atLeastKOfN(as, 0), 1);
  });
  it('keeps precision far into the nines: 5 nodes at 0.9999 need 3 up, unavailability ≈ 10·1e-12', () => {
    const down = fewerThanKOfN(sameAvailability(5, 0.9999), 3);
    assert.ok(Math.abs(down - 10 * 1e-12) / (10 * 1e-12) < 1e-3, `got ${down}`);
  });
  it('rejects probabilities outside [0, 1] and k outside 0..n', () => {
    assert.throws(() => atLeastKOfN([0.5, 1.2], 1), InvalidArgumentError);
    assert.throws(() => atLeastKOfN([0.5, -0.1], 1), /\[0, 1\]/);
    assert.throws(() => atLeastKOfN([0.5], 2), /k must be an integer in \[0, 1\]/);
    assert.throws(() => atLeastKOfN([0.5], 0.5), InvalidArgumentError);
  });
});

describe('models/availability: quorum-aware (beyond the seed)', () => {
  it('majority of 3 at 0.95 is 0.99275, not the seed\'s 0.999875: a Raft group needs 2 of 3', () => {
    close(majorityQuorumAvailability(sameAvailability(3, 0.95)), 0.95 ** 3 + 3 * 0.95 ** 2 * 0.05);
    assert.ok(majorityQuorumAvailability(sameAvailability(3, 0.95)) < replicationAvailability(sameAvailability(3, 0.95)));
  });
  it('majority sizes: 1→1, 2→2, 3→2, 4→3, 5→3', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(majorityOf), [1, 2, 2, 3, 3]);
  });
  it('a 4-node group is no more available than a 3-node one (it tolerates one failure too)', () => {
    assert.ok(majorityQuorumAvailability(sameAvailability(4, 0.95)) < majorityQuorumAvailability(sameAvailability(3, 0.95)));
  });
  it('hybrid with a master quorum and all workers: (3·0.99²·0.01 + 0.99³)·0.95^10', () => {
    const expected = (0.99 ** 3 + 3 * 0.99 ** 2 * 0.01) * 0.95 ** 10;
    close(hybridQuorumAvailability({ masterAvailabilities: sameAvailability(3, 0.99), workerAvailabilities: sameAvailability(10, 0.95) }), expected);
  });
  it('needing 8 of 10 workers instead of all 10 lifts the hybrid from ≈0.60 to ≈0.99', () => {
    const a = hybridQuorumAvailability({ masterAvailabilities: sameAvailability(3, 0.99), workerAvailabilities: sameAvailability(10, 0.95), workersNeeded: 8 });
    close(a, (0.99 ** 3 + 3 * 0.99 ** 2 * 0.01) * bruteAtLeast(sameAvailability(10, 0.95), 8), 1e-13);
    assert.ok(a > 0.98 && a < 0.99, `got ${a}`);
  });
  it("masterRule 'any' with every worker reduces to the seed's hybrid form", () => {
    const spec = { masterAvailabilities: sameAvailability(3, 0.99), workerAvailabilities: sameAvailability(10, 0.95), masterRule: 'any' as const };
    close(hybridQuorumAvailability(spec), hybridAvailability(sameAvailability(3, 0.99), sameAvailability(10, 0.95)));
  });
  it('MTBF/MTTR: 999 h up, 1 h repair is 0.999; nines and downtime follow', () => {
    close(availabilityFromMtbf(999, 1), 0.999);
    close(nines(0.999), 3, 1e-9);
    close(downtimeMinutesPerYear(0.999), 525.96, 1e-9);
    assert.throws(() => availabilityFromMtbf(0, 1), /mtbf/);
    assert.throws(() => availabilityFromMtbf(1, -1), /mttr/);
  });
  it('replicas for a target: any-of-n needs 3 at 0.95 for 0.9998; majority needs 5 for 0.998 (0.99884) and 7 for 0.999; majority never helps at 0.5', () => {
    assert.equal(replicasForTarget(0.95, 0.9998, 'any'), 3);
    assert.equal(replicasForTarget(0.95, 0.9998, 'majority'), 7);
    assert.equal(replicasForTarget(0.95, 0.998, 'majority'), 5);
    assert.equal(replicasForTarget(0.95, 0.999, 'majority'), 7);
    assert.equal(replicasForTarget(0.5, 0.6, 'majority'), undefined);
    assert.equal(replicasForTarget(0.9, 1, 'any'), undefined);
  });
});

describe('models/availability: comparison rows', () => {
  it('puts the seed forms and the quorum-aware forms side by side, each with its source', () => {
    const rows = compareAvailability({ masterAvailabilities: sameAvailability(3, 0.99), workerAvailabilities: sameAvailability(10, 0.95), workersNeeded: 8 });
    const byId = new Map(rows.map((r) => [r.id, r]));
    close(byId.get('seed-hybrid')?.availability ?? 0, (1 - 0.01 ** 3) * 0.95 ** 10);
    assert.equal(byId.get('seed-hybrid')?.source, '04.3.3');
    assert.ok(byId.has('quorum-all-workers') && byId.has('quorum-m-of-n') && byId.has('seed-distributed'));
    assert.equal(byId.has('seed-central'), false, 'the centralized form needs exactly one master');
    for (const r of rows) assert.ok(r.assumption.length > 0 && r.formula.length > 0);
  });
  it('with one master includes the centralized seed form 0.99·0.95^10', () => {
    const rows = compareAvailability({ masterAvailabilities: [0.99], workerAvailabilities: sameAvailability(10, 0.95) });
    close(rows.find((r) => r.id === 'seed-central')?.availability ?? 0, 0.99 * 0.95 ** 10);
  });
});

describe('models/availability: stacked quorum (joint, not a product)', () => {
  it('matches brute force over all states of 3 voters + 2 others', () => {
    const voters = [0.9, 0.95, 0.8];
    const others = [0.7, 0.99];
    const all = [...voters, ...others];
    let expected = 0;
    for (let mask = 0; mask < 32; mask++) {
      let p = 1;
      let upVoters = 0;
      let up = 0;
      all.forEach((a, i) => {
        const isUp = (mask & (1 << i)) !== 0;
        p *= isUp ? a : 1 - a;
        if (isUp) {
          up++;
          if (i < 3) upVoters++;
        }
      });
      if (upVoters >= 2 && up >= 4) expected += p;
    }
    close(stackedQuorumAvailability({ voterAvailabilities: voters, otherAvailabilities: others, nodesNeeded: 4, voterRule: 'majority' }), expected, 1e-14);
  });
});
