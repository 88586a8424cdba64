import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import {
  estimateGossipRounds,
  GOSSIP_ROUNDS_MODES,
  gossipRoundsAsymptotic,
  gossipRoundsMeanField,
  rumorResidue,
  rumorTraffic,
  simulateGossipRounds,
} from '../../src/models/gossip.ts';

describe('models/gossip: seed 04.6.6 R = O(log n), made concrete', () => {
  it('push needs log2 n + ln n rounds (Pittel): 1000 nodes ≈ 16.87', () => {
    assert.ok(Math.abs(gossipRoundsAsymptotic('push', 1000) - (Math.log2(1000) + Math.log(1000))) < 1e-12);
  });
  it('rounds grow logarithmically: 10× the nodes adds a constant, not a factor', () => {
    for (const mode of GOSSIP_ROUNDS_MODES) {
      const r100 = gossipRoundsMeanField(mode, 100);
      const r1000 = gossipRoundsMeanField(mode, 1000);
      const r10000 = gossipRoundsMeanField(mode, 10_000);
      assert.ok(r1000 - r100 <= 8 && r10000 - r1000 <= 8, `${mode}: ${r100}, ${r1000}, ${r10000}`);
    }
  });
  it('push-pull beats pull, which beats push, in every model', () => {
    for (const n of [100, 1000]) {
      assert.ok(gossipRoundsMeanField('push-pull', n) < gossipRoundsMeanField('pull', n));
      assert.ok(gossipRoundsMeanField('pull', n) < gossipRoundsMeanField('push', n));
      assert.ok(gossipRoundsAsymptotic('push-pull', n) < gossipRoundsAsymptotic('pull', n));
      assert.ok(gossipRoundsAsymptotic('pull', n) < gossipRoundsAsymptotic('push', n));
    }
  });
  it('the simulated mean is within 2 rounds of the asymptotic formula and 1.5 of the mean field (n = 1000, 40 runs)', () => {
    const rng = createRng(11);
    for (const mode of GOSSIP_ROUNDS_MODES) {
      const e = estimateGossipRounds(mode, 1000, 40, rng);
      const mean = e.simulatedMean ?? Number.NaN;
      assert.ok(Math.abs(mean - e.asymptotic) < 2, `${mode}: simulated ${mean}, asymptotic ${e.asymptotic}`);
      assert.ok(Math.abs(mean - e.meanField) < 1.5, `${mode}: simulated ${mean}, mean field ${e.meanField}`);
    }
  });
  it('a simulation always informs everyone, and one node needs no rounds', () => {
    const rng = createRng(3);
    for (const mode of GOSSIP_ROUNDS_MODES) {
      assert.equal(simulateGossipRounds(mode, 1, rng), 0);
      assert.ok(simulateGossipRounds(mode, 64, rng) <= 64);
    }
  });
});

describe('models/gossip: Demers et al. rumor mongering residue s = e^{-(k+1)(1-s)}', () => {
  it('solves the fixed point: k = 1 → 0.2032, k = 2 → 0.0595, k = 3 → 0.0198 (Demers 1987, table 1 order)', () => {
    const expected: [number, number][] = [
      [1, 0.2032],
      [2, 0.0595],
      [3, 0.0198],
      [4, 0.00698],
      [5, 0.00252],
    ];
    for (const [k, s] of expected) {
      const r = rumorResidue(k);
      assert.ok(Math.abs(r - s) / s < 2e-3, `k=${k}: ${r}`);
      assert.ok(Math.abs(r - Math.exp(-(k + 1) * (1 - r))) < 1e-12, 'satisfies the equation');
    }
  });
  it('traffic m = -ln s: s = e^{-m}', () => {
    const s = rumorResidue(2);
    assert.ok(Math.abs(Math.exp(-rumorTraffic(s)) - s) < 1e-15);
  });
  it('rejects k ≤ 0', () => {
    assert.throws(() => rumorResidue(0), /positive/);
    assert.throws(() => rumorResidue(-1), /positive/);
  });
});
