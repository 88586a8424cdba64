/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerModels } from './models.ts';

export function registerCommands(program: Command): void {
  registerModels(program);
}
