import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { atLeastKOfN, fewerThanKOfN, majorityQuorumAvailability, parallelAvailability, seriesAvailability } from '../../src/models/availability.ts';

const availabilities = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 10 });

function brute(as: readonly number[], k: number): number {
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

describe('models/availability: properties (fast-check)', () => {
  it('k-of-n equals brute-force enumeration, and the two tails sum to 1', () => {
    fc.assert(
      fc.property(availabilities, fc.nat(10), (as, kRaw) => {
        const k = kRaw % (as.length + 1);
        const a = atLeastKOfN(as, k);
        assert.ok(Math.abs(a - brute(as, k)) < 1e-12);
        assert.ok(Math.abs(a + fewerThanKOfN(as, k) - 1) < 1e-12);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
  it('availability falls as k rises; series ≤ majority ≤ parallel', () => {
    fc.assert(
      fc.property(availabilities, (as) => {
        for (let k = 1; k <= as.length; k++) assert.ok(atLeastKOfN(as, k) <= atLeastKOfN(as, k - 1) + 1e-15);
        const maj = majorityQuorumAvailability(as);
        assert.ok(seriesAvailability(as) <= maj + 1e-15);
        assert.ok(maj <= parallelAvailability(as) + 1e-15);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
