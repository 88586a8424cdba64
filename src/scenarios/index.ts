/**
 * The scenario registry. Each protocol adds its scenarios here, one line each.
 */
import { causalKvScenario } from './causal-kv-scenario.ts';
import { crdtMapScenario } from './crdt-map-scenario.ts';
import { gossipRoundsScenario } from './gossip-rounds-scenario.ts';
import { raftElectionScenario } from './raft-election.ts';
import { raftScenario } from './raft-scenario.ts';
import { registerScenario } from './register-scenario.ts';
import type { Scenario } from './types.ts';

export const SCENARIOS: readonly Scenario[] = [
  registerScenario,
  crdtMapScenario,
  causalKvScenario,
  gossipRoundsScenario,
  raftScenario,
  raftElectionScenario,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';
