/**
 * Simulation scenarios: named, seeded runs of a protocol inside the simulator, used by
 * `clusterkit sim <scenario>`, by the seed-sweeping tests and by the soak script.
 */
import type { FaultKind } from '../sim/nemesis.ts';

export interface ScenarioOptions {
  seed: number;
  /** Scenario-specific meaning (servers, members, clients); each scenario documents it. */
  nodes: number;
  /** Virtual duration of the safety phase, ms. */
  durationMs: number;
  /** Faults the nemesis may inject; empty for a fault-free run. */
  faults: readonly FaultKind[];
  /** Client operations to issue (for workloads). */
  ops: number;
  /** Extra scenario flags (`--set key=value`). */
  params: Readonly<Record<string, string>>;
}

export interface ScenarioResult {
  ok: boolean;
  seed: number;
  /** One-line headline. */
  headline: string;
  /** Key figures for tables and --json. */
  summary: Record<string, number | string | boolean>;
  /** Human-readable detail lines. */
  details: string[];
  /** The client history as JSON lines, when the scenario records one. */
  historyJsonLines?: string;
  /** An SVG chart, when the scenario draws one. */
  svg?: string;
}

export interface Scenario {
  name: string;
  description: string;
  /** Defaults for options the user does not give. */
  defaults: Partial<Omit<ScenarioOptions, 'seed' | 'params'>>;
  /** False for scenarios that measure rather than check (the soak skips them). */
  soak?: boolean;
  run(options: ScenarioOptions): ScenarioResult;
}
