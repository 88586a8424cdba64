/**
 * Shared helpers for CLI commands: flag parsing with range checks (exit code 2 and a message
 * naming the flag on bad input), table and JSON output.
 */
import { type Command, InvalidArgumentError as CommanderInvalidArgument } from 'commander';

/** Thrown for bad flags; the CLI prints the message and exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function intFlag(flag: string, opts: { min?: number; max?: number } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new CommanderInvalidArgument(`${flag} must be an integer, got ${JSON.stringify(value)}`);
    }
    if (opts.min !== undefined && n < opts.min) {
      throw new CommanderInvalidArgument(`${flag} must be >= ${opts.min}, got ${n}`);
    }
    if (opts.max !== undefined && n > opts.max) {
      throw new CommanderInvalidArgument(`${flag} must be <= ${opts.max}, got ${n}`);
    }
    return n;
  };
}

export function floatFlag(flag: string, opts: { min?: number; max?: number; minExclusive?: boolean } = {}) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new CommanderInvalidArgument(`${flag} must be a number, got ${JSON.stringify(value)}`);
    }
    if (opts.min !== undefined && (opts.minExclusive ? n <= opts.min : n < opts.min)) {
      throw new CommanderInvalidArgument(`${flag} must be ${opts.minExclusive ? '>' : '>='} ${opts.min}, got ${n}`);
    }
    if (opts.max !== undefined && n > opts.max) {
      throw new CommanderInvalidArgument(`${flag} must be <= ${opts.max}, got ${n}`);
    }
    return n;
  };
}

/** A probability in [0, 1]. */
export function probabilityFlag(flag: string) {
  return floatFlag(flag, { min: 0, max: 1 });
}

/** Parses a duration such as `250ms`, `10s`, `2m`, `1h` (a bare number is milliseconds). */
export function parseDurationMs(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new CommanderInvalidArgument(`${flag} must be a duration like 500ms, 10s, 2m; got ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return n * factor;
}

export function durationFlag(flag: string) {
  return (value: string): number => parseDurationMs(flag, value);
}

/** Renders rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map((c) => formatCell(c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells.slice(1)) out.push(line(r));
  return out.join('\n');
}

function formatCell(c: unknown): string {
  if (typeof c === 'number') {
    if (Number.isInteger(c)) return String(c);
    return Math.abs(c) >= 1e6 || (Math.abs(c) < 1e-4 && c !== 0) ? c.toExponential(4) : String(Number(c.toPrecision(6)));
  }
  if (c === undefined || c === null) return '';
  return String(c);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A command group (`clusterkit gossip ...`) that several modules add subcommands to: returns the
 * group if another module created it already, so registration order does not matter.
 */
export function commandGroup(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}
