/**
 * `--set key=value` parameters of the overlay scenarios: parsed as numbers and checked, so a
 * bad value is a usage error naming the parameter rather than a failed run.
 */
import { ConfigError } from '../core/errors.ts';

/** A positive number parameter (`integer` when asked), or `fallback` when absent. */
export function numberParam(params: Readonly<Record<string, string>>, name: string, fallback: number, integer = true): number {
  const raw = params[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`--set ${name}=${raw}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return v;
}

/** The `--set` flags that reproduce `params`, for replay commands (empty when there are none). */
export function setFlags(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
}
