/**
 * Node-list validation and canonical ordering shared by the placements: ids unique and
 * non-empty, weights finite and > 0, a limit on the number of nodes. Canonical order is by
 * UTF-16 code units (not locale), so it is the same on every machine.
 *
 * Left out: id syntax. Placement ids may be host:port strings (ketama hashes exactly those), so
 * only emptiness and length are checked here; services that own node ids validate them.
 */
import { ConfigError } from '../core/errors.ts';
import type { NodeSpec, PreferenceOptions } from './types.ts';

/** Upper bound on nodes in one placement: tables and point arrays are sized from it. */
export const NODES_MAX = 100_000;
/** Upper bound on an id's length in UTF-16 units. */
export const NODE_ID_LENGTH_MAX = 255;

export function weightOf(node: NodeSpec): number {
  return node.weight ?? 1;
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Validates and returns a copy sorted by id. */
export function canonicalNodes(nodes: readonly NodeSpec[], what = 'placement'): NodeSpec[] {
  if (nodes.length === 0) throw new ConfigError(`${what}: at least one node is required`);
  if (nodes.length > NODES_MAX) throw new ConfigError(`${what}: at most ${NODES_MAX} nodes, got ${nodes.length}`);
  const seen = new Set<string>();
  for (const n of nodes) {
    if (typeof n.id !== 'string' || n.id.length === 0 || n.id.length > NODE_ID_LENGTH_MAX) {
      throw new ConfigError(`${what}: node id must be a string of 1..${NODE_ID_LENGTH_MAX} characters, got ${JSON.stringify(n.id)}`);
    }
    if (seen.has(n.id)) throw new ConfigError(`${what}: duplicate node id ${JSON.stringify(n.id)}`);
    seen.add(n.id);
    const w = weightOf(n);
    if (!Number.isFinite(w) || w <= 0) {
      throw new ConfigError(`${what}: weight of node ${JSON.stringify(n.id)} must be a finite number > 0, got ${w}`);
    }
  }
  return nodes.slice().sort((a, b) => compareIds(a.id, b.id));
}

export function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`preference count must be an integer >= 1, got ${count}`);
}

/**
 * Collects distinct node indexes offered in preference order into a list of ids, honouring
 * `distinctZones`. Returns a visitor for `walk` and the list it fills.
 */
export function preferenceCollector(
  nodes: readonly NodeSpec[],
  count: number,
  options: PreferenceOptions | undefined,
): { visit: (index: number) => boolean; out: string[] } {
  checkCount(count);
  const want = Math.min(count, nodes.length);
  const out: string[] = [];
  const zones = options?.distinctZones ? new Set<string>() : undefined;
  const visit = (index: number): boolean => {
    const node = nodes[index] as NodeSpec;
    if (zones) {
      const zone = node.zone ?? `\u0000node:${node.id}`;
      if (zones.has(zone)) return false;
      zones.add(zone);
    }
    out.push(node.id);
    return out.length >= want;
  };
  return { visit, out };
}
