/**
 * Every module registers its subcommands here: one import and one list entry each.
 */
import type { Command } from 'commander';
import { registerCheck } from './check.ts';
import { registerGossip } from './gossip.ts';
import { registerSim } from './sim.ts';

const MODULES: readonly ((program: Command) => void)[] = [
  registerSim,
  registerCheck,
  registerGossip,
];

export function registerCommands(program: Command): void {
  for (const register of MODULES) register(program);
}
