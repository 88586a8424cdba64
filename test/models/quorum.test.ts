import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/core/errors.ts';
import {
  flexibleQuorum,
  flexibleQuorumChoices,
  isAtLeastAsUpToDate,
  isCommitted,
  mostUpToDate,
  possibleLeaders,
  quorumsIntersect,
  summarizeQuorum,
  toleratedFailures,
} from '../../src/models/quorum.ts';

describe('models/quorum: seed 04.6.4 committed ⇔ |{n_i has log}| > |N|/2', () => {
  it('3 voters commit at 2 acks, not 1; 4 voters need 3', () => {
    assert.equal(isCommitted(2, 3), true);
    assert.equal(isCommitted(1, 3), false);
    assert.equal(isCommitted(2, 4), false, 'exactly half is not a majority');
    assert.equal(isCommitted(3, 4), true);
  });
  it('tolerated failures are ⌊(n-1)/2⌋: 1→0, 3→1, 4→1, 5→2, 7→3', () => {
    assert.deepEqual([1, 3, 4, 5, 7].map(toleratedFailures), [0, 1, 1, 2, 3]);
    assert.equal(summarizeQuorum(4).sameToleranceAsSmaller, true);
    assert.equal(summarizeQuorum(5).sameToleranceAsSmaller, false);
  });
  it('rejects more acks than voters and non-integer counts', () => {
    assert.throws(() => isCommitted(4, 3), InvalidArgumentError);
    assert.throws(() => isCommitted(1.5, 3), InvalidArgumentError);
    assert.throws(() => toleratedFailures(0), InvalidArgumentError);
  });
});

describe('models/quorum: Flexible Paxos (Howard et al. 2016), |Q1| + |Q2| > N', () => {
  it('majorities always intersect; 2 + 2 of 5 do not', () => {
    assert.equal(quorumsIntersect(5, 3, 3), true);
    assert.equal(quorumsIntersect(5, 2, 2), false);
    assert.equal(quorumsIntersect(6, 4, 3), true);
  });
  it('replicating to 2 of 5 needs elections to reach 4 of 5', () => {
    const q = flexibleQuorum(5, 4, 2, 0.99);
    assert.equal(q.replicationFailuresTolerated, 3);
    assert.equal(q.electionFailuresTolerated, 1);
    assert.ok((q.replicationAvailability ?? 0) > (q.electionAvailability ?? 1));
    assert.throws(() => flexibleQuorum(5, 2, 3), /intersect/);
  });
  it('lists every minimal choice, each intersecting', () => {
    const choices = flexibleQuorumChoices(5);
    assert.equal(choices.length, 5);
    for (const c of choices) {
      assert.equal(c.q1 + c.q2, 6);
      assert.equal(c.intersects, true);
    }
  });
});

describe('models/quorum: seed 04.6.4 Leader = argmax {term_i, log_index_i} and Raft §5.4.1', () => {
  it('the later last term beats the longer log', () => {
    assert.equal(isAtLeastAsUpToDate({ lastLogTerm: 3, lastLogIndex: 5 }, { lastLogTerm: 2, lastLogIndex: 9 }), true);
    assert.equal(isAtLeastAsUpToDate({ lastLogTerm: 2, lastLogIndex: 9 }, { lastLogTerm: 3, lastLogIndex: 5 }), false);
    assert.deepEqual(
      mostUpToDate([
        { lastLogTerm: 2, lastLogIndex: 9 },
        { lastLogTerm: 3, lastLogIndex: 5 },
        { lastLogTerm: 3, lastLogIndex: 5 },
      ]),
      [1, 2],
    );
  });
  it('any node a majority would vote for can win, not only the argmax', () => {
    const logs = [
      { lastLogTerm: 3, lastLogIndex: 7 },
      { lastLogTerm: 3, lastLogIndex: 6 },
      { lastLogTerm: 3, lastLogIndex: 6 },
      { lastLogTerm: 2, lastLogIndex: 9 },
      { lastLogTerm: 2, lastLogIndex: 4 },
    ];
    assert.deepEqual(possibleLeaders(logs), [0, 1, 2]);
  });
});
