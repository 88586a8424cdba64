/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import { registerProxy } from './proxy.ts';

export function registerCommands(program: Command): void {
  registerProxy(program);
}
