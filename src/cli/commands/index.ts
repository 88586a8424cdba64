/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerGossipEpidemic } from './gossip-epidemic.ts';

export function registerCommands(program: Command): void {
  registerGossipEpidemic(program);
}
