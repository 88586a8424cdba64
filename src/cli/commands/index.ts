/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerPlacement } from './placement.ts';

export function registerCommands(program: Command): void {
  registerPlacement(program);
}
