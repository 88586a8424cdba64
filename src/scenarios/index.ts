/**
 * The scenario registry: one import and one list entry per scenario.
 */
import { registerScenario } from './register-scenario.ts';
import { causalKvScenario } from './causal-kv-scenario.ts';
import { chordScenario } from './chord-scenario.ts';
import { clusterScenario } from './cluster-scenario.ts';
import { crdtMapScenario } from './crdt-map-scenario.ts';
import { floodingScenario } from './flooding-scenario.ts';
import { gossipRoundsScenario } from './gossip-rounds-scenario.ts';
import { kademliaScenario } from './kademlia-scenario.ts';
import { paxosScenario } from './paxos-scenario.ts';
import { raftElectionScenario } from './raft-election.ts';
import { raftScenario } from './raft-scenario.ts';
import { superPeerScenario } from './superpeer-scenario.ts';
import { swimScenario } from './swim-scenario.ts';
import type { Scenario } from './types.ts';

export const SCENARIOS: readonly Scenario[] = [
  registerScenario,
  causalKvScenario,
  chordScenario,
  clusterScenario,
  crdtMapScenario,
  floodingScenario,
  gossipRoundsScenario,
  kademliaScenario,
  paxosScenario,
  raftElectionScenario,
  raftScenario,
  superPeerScenario,
  swimScenario,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';
