/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerStorage } from './storage.ts';

export function registerCommands(program: Command): void {
  registerStorage(program);
}
