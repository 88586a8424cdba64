/**
 * Every module registers its subcommands here, one line each.
 */
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
