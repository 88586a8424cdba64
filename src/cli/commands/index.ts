/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerGossip } from './gossip.ts';

export function registerCommands(program: Command): void {
  registerGossip(program);
}
