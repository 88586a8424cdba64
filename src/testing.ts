/**
 * `clusterkit/testing`: the deterministic simulator, workload generators and checkers, for
 * testing clusterkit-based systems (and clusterkit itself) without real time or sockets.
 */
export * from './core/index.ts';
export * from './sim/index.ts';
export type { Scenario, ScenarioOptions, ScenarioResult } from './scenarios/index.ts';
export { findScenario, SCENARIOS } from './scenarios/index.ts';
