/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerSim } from './sim.ts';

export function registerCommands(program: Command): void {
  registerSim(program);
}
