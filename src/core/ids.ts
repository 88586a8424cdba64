/**
 * Node identifiers. A node id is a short printable name ("n1", "kv-3"): stable across restarts,
 * chosen by the operator, and safe to put in file names, metrics labels and logs.
 */
import { ConfigError } from './errors.ts';

export type NodeId = string;

const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function isNodeId(value: unknown): value is NodeId {
  return typeof value === 'string' && NODE_ID_RE.test(value);
}

export function parseNodeId(value: string, what = 'node id'): NodeId {
  if (!isNodeId(value)) {
    throw new ConfigError(
      `${what} ${JSON.stringify(value)} is not valid: use 1-63 characters from [A-Za-z0-9_.-], starting with a letter or digit`,
    );
  }
  return value;
}

/** `n1`, `n2`, ... `nN`: the default names for a cluster of `count` nodes. */
export function defaultNodeIds(count: number, prefix = 'n'): NodeId[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** Deterministic ordering of ids, numeric-aware ("n2" < "n10"). */
export function compareNodeIds(a: NodeId, b: NodeId): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
