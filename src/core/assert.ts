/**
 * Assertions that stay on in production (TigerBeetle style). A failed assertion is a bug in
 * clusterkit, never a user error: user errors get a typed error from `errors.ts` instead.
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Exhaustiveness check for discriminated unions: `default: return unreachable(msg)`. */
export function unreachable(value: never, what = 'value'): never {
  throw new AssertionError(`unreachable ${what}: ${JSON.stringify(value)}`);
}
