import { describe, it } from 'node:test';
import { runChord } from '../../src/scenarios/chord-scenario.ts';
import { runFlooding } from '../../src/scenarios/flooding-scenario.ts';
import { runKademlia } from '../../src/scenarios/kademlia-scenario.ts';
import { runSuperPeer } from '../../src/scenarios/superpeer-scenario.ts';
import { ALL_FAULTS } from '../../src/sim/nemesis.ts';

// A seed sweep of every overlay scenario on small clusters and short fault phases (each run's
// checkers throw a SimFailure carrying the seed and replay command). Longer sweeps:
// `clusterkit sim <chord|kademlia|flooding|superpeer> --seeds N`, or `npm run soak`.
const SEEDS = Array.from({ length: 20 }, (_, i) => 200 + i);
const base = { durationMs: 15_000, faults: ALL_FAULTS, params: {} };

describe('overlay seed sweep under the nemesis', () => {
  it(`chord: ${SEEDS.length} seeds, 10 nodes`, () => {
    for (const seed of SEEDS) runChord({ ...base, seed, nodes: 10, ops: 8 });
  });
  it(`kademlia: ${SEEDS.length} seeds, 10 nodes`, () => {
    for (const seed of SEEDS) runKademlia({ ...base, seed, nodes: 10, ops: 5 });
  });
  it(`flooding: ${SEEDS.length} seeds, 12 peers`, () => {
    for (const seed of SEEDS) runFlooding({ ...base, seed, nodes: 12, ops: 0 });
  });
  it(`superpeer: ${SEEDS.length} seeds, 12 peers`, () => {
    for (const seed of SEEDS) runSuperPeer({ ...base, seed, nodes: 12, ops: 0 });
  });
});
