/**
 * Every module registers its subcommands here: one import and one list entry each.
 */
import type { Command } from 'commander';
import { registerCheck } from './check.ts';
import { registerCluster } from './cluster.ts';
import { registerGossipEpidemic } from './gossip-epidemic.ts';
import { registerGossip } from './gossip.ts';
import { registerKv } from './kv.ts';
import { registerModels } from './models.ts';
import { registerPlacement } from './placement.ts';
import { registerProxy } from './proxy.ts';
import { registerRegistry } from './registry.ts';
import { registerSim } from './sim.ts';
import { registerStorage } from './storage.ts';

const MODULES: readonly ((program: Command) => void)[] = [
  registerCheck,
  registerCluster,
  registerGossipEpidemic,
  registerGossip,
  registerKv,
  registerModels,
  registerPlacement,
  registerProxy,
  registerRegistry,
  registerSim,
  registerStorage,
];

export function registerCommands(program: Command): void {
  for (const register of MODULES) register(program);
}
