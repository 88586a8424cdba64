/**
 * The scenario registry. Each protocol adds its scenarios here, one line each.
 */
import { registerScenario } from './register-scenario.ts';
import { swimScenario } from './swim-scenario.ts';
import type { Scenario } from './types.ts';

export const SCENARIOS: readonly Scenario[] = [registerScenario, swimScenario];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

export type { Scenario, ScenarioOptions, ScenarioResult } from './types.ts';
