/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerCheck } from './check.ts';

export function registerCommands(program: Command): void {
  registerCheck(program);
}
