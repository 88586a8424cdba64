import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventualConvergenceIndex, causalConditionHolds, replicaStatesAgree, strongConditionHolds } from '../../src/models/consistency.ts';

describe('models/consistency: seed 04.6.1–04.6.3 conditions', () => {
  it('strong: ∀t all replicas agree', () => {
    assert.equal(replicaStatesAgree([1, 1, 1]), true);
    assert.equal(strongConditionHolds([[1, 1], [2, 2]]), true);
    assert.equal(strongConditionHolds([[1, 1], [2, 1]]), false);
  });
  it('eventual: the replicas converge from some point to the end of the trace', () => {
    const trace = [
      ['a', 'a', 'a'],
      ['b', 'a', 'a'],
      ['b', 'b', 'a'],
      ['b', 'b', 'b'],
      ['b', 'b', 'b'],
    ];
    assert.equal(eventualConvergenceIndex(trace), 3);
    assert.equal(eventualConvergenceIndex([...trace, ['c', 'b', 'b']]), undefined);
    assert.equal(strongConditionHolds(trace), false);
  });
  it('causal: o_i ≺ o_j ⇒ order(o_i) < order(o_j)', () => {
    const hb: [string, string][] = [
      ['write x', 'read x'],
      ['read x', 'write y'],
    ];
    assert.equal(
      causalConditionHolds(
        hb,
        new Map([
          ['write x', 0],
          ['other', 1],
          ['read x', 2],
          ['write y', 3],
        ]),
      ),
      true,
    );
    assert.equal(
      causalConditionHolds(
        hb,
        new Map([
          ['write y', 0],
          ['write x', 1],
          ['read x', 2],
        ]),
      ),
      false,
    );
    assert.throws(() => causalConditionHolds(hb, new Map([['write x', 0]])), /missing/);
  });
});
