/**
 * Every module registers its subcommands here: one import and one list entry each.
 */
import type { Command } from 'commander';
import { registerCheck } from './check.ts';
import { registerCluster } from './cluster.ts';
import { registerGossipEpidemic } from './gossip-epidemic.ts';
import { registerGossip } from './gossip.ts';
import { registerModels } from './models.ts';
import { registerPlacement } from './placement.ts';
import { registerSim } from './sim.ts';
import { registerStorage } from './storage.ts';

const MODULES: readonly ((program: Command) => void)[] = [
  registerCheck,
  registerCluster,
  registerGossipEpidemic,
  registerGossip,
  registerModels,
  registerPlacement,
  registerSim,
  registerStorage,
];

export function registerCommands(program: Command): void {
  for (const register of MODULES) register(program);
}
