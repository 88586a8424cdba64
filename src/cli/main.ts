/**
 * The `clusterkit` command. Each module registers its subcommands in `commands/index.ts`.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage (flags, arguments, input files).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ClusterkitError } from '../core/errors.ts';
import { registerCommands } from './commands/index.ts';
import { UsageError } from './util.ts';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('clusterkit')
    .description('Distributed-systems toolkit: consensus, membership, discovery and load balancing; real, simulated and modelled.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (err.exitCode === 0) return 0;
      return 2;
    }
    if (err instanceof UsageError || (err instanceof ClusterkitError && (err.code === 'config' || err.code === 'invalid-argument'))) {
      process.stderr.write(`clusterkit: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`clusterkit: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
