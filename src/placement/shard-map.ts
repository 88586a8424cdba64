/**
 * Shard maps (seed 04.2.3: the shard system S = (D, N) and its distribution function
 * f: D → N), with replication (seed 04.2.4): a fixed number of shards, each with a preference
 * list of `replicas` distinct nodes (optionally in distinct zones), the first being the primary.
 * A key belongs to shard jump(murmur3(key), shards), so growing the shard count later moves only
 * 1/(S+1) of the keys between shards.
 *
 * `planRebalance` computes the next map for a new node set (joins, leaves, weight changes,
 * replica-count changes) moving the fewest replicas: every node gets a quota of the S·R replica
 * slots in proportion to its weight (at most one per shard, apportioned by largest remainder);
 * replicas stay where they are unless their node left, their node is above its quota, or they
 * break zone distinctness; only the freed slots are refilled, each from the node furthest below
 * its quota that may take it; then nodes above quota hand replicas directly to nodes below it.
 * Any map meeting the quotas must move at least Σ max(0, held_i − quota_i) + replicas on departed
 * nodes + new slots, and the plan moves exactly that many whenever it meets the quotas
 * (`moves.length === lowerBound`, checked under random membership changes in the tests).
 * Surviving replicas keep their rank, so a primary changes only when it left or was over quota.
 *
 * With `distinctZones`, quotas go to zones first (by total weight, at most one replica per shard
 * per zone) and then to the zone's nodes, so a heavy zone cannot be asked for more than S.
 *
 * When the surviving layout leaves a hole that no node below quota may take (distinctness or
 * zones), a chain repair hands replicas along the cheapest path to a node below quota; those
 * moves are reported as `extraMoves`.
 *
 * Left out: balancing primaries separately from replicas; an optimal choice of which replicas
 * to drop when the replica count shrinks (it drops the replica of the node furthest above quota,
 * shard by shard, which can cost a few moves over the bound); and the zones in the lower bound.
 */
import { ConfigError } from '../core/errors.ts';
import { jumpHash } from './jump.ts';
import { fmix32, mix2, placementHash } from './hash.ts';
import { canonicalNodes, compareIds, weightOf } from './nodes.ts';
import type { NodeSpec, Placement } from './types.ts';

/** Upper bound on shards in one map (each shard holds a small array of node ids). */
export const SHARDS_MAX = 1_000_000;
/** Upper bound on the work (eligibility checks) spent repairing quotas along chains. */
export const CHAIN_WORK_MAX = 50_000_000;
/** Upper bound on the replication factor. */
export const REPLICAS_MAX = 16;

export interface ShardMapOptions {
  readonly shards: number;
  /** Replication factor R (default 1). */
  readonly replicas?: number;
  /** Put a shard's replicas in distinct zones (nodes without a zone count as their own zone). */
  readonly distinctZones?: boolean;
}

export interface ShardMove {
  readonly shard: number;
  /** The node that gives the replica up (null: a new replica slot). */
  readonly from: string | null;
  /** The node that takes it (null: the slot is dropped because the replica count shrank). */
  readonly to: string | null;
}

export interface RebalancePlan {
  readonly map: ShardMap;
  readonly moves: readonly ShardMove[];
  /**
   * A lower bound on the moves of any plan that meets the quotas (zone rules aside). With an
   * unchanged replica count and `extraMoves === 0`, the plan moves exactly this many: it is
   * optimal.
   */
  readonly lowerBound: number;
  /**
   * Moves made by chain repair, when the surviving layout left a hole that no node below quota
   * could take (0 in the usual case). `moves.length <= lowerBound + extraMoves`.
   */
  readonly extraMoves: number;
  /** Replica slots per node in the new map (id → quota). */
  readonly quotas: ReadonlyMap<string, number>;
  /** Nodes that ended above their quota because zone or distinctness constraints forced it. */
  readonly overQuota: readonly string[];
}

function zoneOf(node: NodeSpec): string {
  return node.zone ?? `\u0000node:${node.id}`;
}

function checkOptions(options: ShardMapOptions, nodes: readonly NodeSpec[]): { shards: number; replicas: number; distinctZones: boolean } {
  const { shards } = options;
  const replicas = options.replicas ?? 1;
  const distinctZones = options.distinctZones ?? false;
  if (!Number.isInteger(shards) || shards < 1 || shards > SHARDS_MAX) throw new ConfigError(`shard map: shards must be an integer in 1..${SHARDS_MAX}, got ${shards}`);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > REPLICAS_MAX) {
    throw new ConfigError(`shard map: replicas must be an integer in 1..${REPLICAS_MAX}, got ${replicas}`);
  }
  if (replicas > nodes.length) throw new ConfigError(`shard map: ${replicas} replicas need at least ${replicas} nodes, got ${nodes.length}`);
  if (distinctZones) {
    const zones = new Set(nodes.map(zoneOf)).size;
    if (replicas > zones) throw new ConfigError(`shard map: ${replicas} zone-distinct replicas need at least ${replicas} zones, got ${zones}`);
  }
  return { shards, replicas, distinctZones };
}

/**
 * Splits `total` slots over nodes in proportion to weight, at most `cap` each, by largest
 * remainder (ties by id), so the quotas sum to `total` exactly.
 */
export function apportion(nodes: readonly NodeSpec[], total: number, cap: number): Map<string, number> {
  const quotas = new Map<string, number>();
  let open = nodes.slice();
  let left = total;
  // Water-filling: nodes whose proportional share exceeds the cap get the cap.
  for (;;) {
    const w = open.reduce((a, n) => a + weightOf(n), 0);
    const capped = open.filter((n) => (left * weightOf(n)) / w > cap);
    if (capped.length === 0) break;
    for (const n of capped) {
      quotas.set(n.id, cap);
      left -= cap;
    }
    open = open.filter((n) => !capped.includes(n));
  }
  const w = open.reduce((a, n) => a + weightOf(n), 0);
  const exact = open.map((n) => ({ id: n.id, q: (left * weightOf(n)) / w }));
  let given = 0;
  for (const e of exact) {
    const f = Math.floor(e.q);
    quotas.set(e.id, f);
    given += f;
  }
  const byRemainder = exact.slice().sort((a, b) => b.q - Math.floor(b.q) - (a.q - Math.floor(a.q)) || compareIds(a.id, b.id));
  for (let i = 0; i < left - given; i++) {
    const e = byRemainder[i % byRemainder.length] as { id: string };
    quotas.set(e.id, (quotas.get(e.id) ?? 0) + 1);
  }
  return quotas;
}

/**
 * Zone-distinct quotas: each zone gets a share of the slots by its total weight, at most one per
 * shard (so the quotas are feasible), then splits it over its nodes by weight.
 */
export function apportionByZone(nodes: readonly NodeSpec[], total: number, cap: number): Map<string, number> {
  const zones = new Map<string, NodeSpec[]>();
  for (const node of nodes) {
    const list = zones.get(zoneOf(node)) ?? [];
    list.push(node);
    zones.set(zoneOf(node), list);
  }
  const zoneNodes = [...zones.entries()].map(([id, list]) => ({ id, weight: list.reduce((a, n) => a + weightOf(n), 0) }));
  const zoneQuotas = apportion(zoneNodes, total, cap);
  const quotas = new Map<string, number>();
  for (const [z, list] of zones) for (const [id, q] of apportion(list, zoneQuotas.get(z) ?? 0, cap)) quotas.set(id, q);
  return quotas;
}

export class ShardMap {
  readonly shards: number;
  readonly replicas: number;
  readonly distinctZones: boolean;
  readonly nodes: readonly NodeSpec[];
  /** assignment[s] = shard s's preference list, primary first. */
  readonly assignment: readonly (readonly string[])[];

  constructor(nodes: readonly NodeSpec[], options: ShardMapOptions, assignment: readonly (readonly string[])[]) {
    this.nodes = canonicalNodes(nodes, 'shard map');
    const o = checkOptions(options, this.nodes);
    this.shards = o.shards;
    this.replicas = o.replicas;
    this.distinctZones = o.distinctZones;
    if (assignment.length !== this.shards) throw new ConfigError(`shard map: ${assignment.length} assignments for ${this.shards} shards`);
    const byId = new Map(this.nodes.map((n) => [n.id, n]));
    assignment.forEach((list, s) => {
      if (list.length !== this.replicas) throw new ConfigError(`shard map: shard ${s} has ${list.length} replicas, want ${this.replicas}`);
      if (new Set(list).size !== list.length) throw new ConfigError(`shard map: shard ${s} lists a node twice`);
      const zones = new Set<string>();
      for (const id of list) {
        const node = byId.get(id);
        if (!node) throw new ConfigError(`shard map: shard ${s} names unknown node ${JSON.stringify(id)}`);
        if (this.distinctZones && zones.has(zoneOf(node))) throw new ConfigError(`shard map: shard ${s} has two replicas in zone ${JSON.stringify(node.zone)}`);
        zones.add(zoneOf(node));
      }
    });
    this.assignment = assignment.map((l) => l.slice());
  }

  /** A balanced map built from nothing (every slot placed by quota). */
  static build(nodes: readonly NodeSpec[], options: ShardMapOptions): ShardMap {
    return planRebalance(null, nodes, options).map;
  }

  /** Shard s's replicas from a placement's preference list for the key `shard:s`. */
  static fromPlacement(placement: Placement, options: ShardMapOptions): ShardMap {
    const o = checkOptions(options, placement.nodes);
    const assignment: string[][] = [];
    for (let s = 0; s < o.shards; s++) assignment.push(placement.preference(`shard:${s}`, o.replicas, { distinctZones: o.distinctZones }));
    return new ShardMap(placement.nodes, options, assignment);
  }

  /** f(d): the shard of a key. */
  shardOf(key: string): number {
    const h = placementHash(key);
    return jumpHash(h, fmix32(h ^ 0x9e3779b9), this.shards);
  }

  /** The preference list (primary first) of the key's shard. */
  nodesFor(key: string): readonly string[] {
    return this.assignment[this.shardOf(key)] as readonly string[];
  }

  primaryFor(key: string): string {
    return this.nodesFor(key)[0] as string;
  }

  /** Replica slots held per node id. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>(this.nodes.map((n) => [n.id, 0]));
    for (const list of this.assignment) for (const id of list) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  toJSON(): { shards: number; replicas: number; distinctZones: boolean; nodes: readonly NodeSpec[]; assignment: readonly (readonly string[])[] } {
    return { shards: this.shards, replicas: this.replicas, distinctZones: this.distinctZones, nodes: this.nodes, assignment: this.assignment };
  }
}

/**
 * The next shard map for `nodes` moving the fewest replicas from `current` (null: a fresh map).
 * Options default to the current map's shards, replicas and zone rule.
 */
export function planRebalance(current: ShardMap | null, nodes: readonly NodeSpec[], options?: Partial<ShardMapOptions>): RebalancePlan {
  const canon = canonicalNodes(nodes, 'shard map');
  const shards = options?.shards ?? current?.shards;
  if (shards === undefined) throw new ConfigError('shard map: shards is required for a new map');
  if (current && shards !== current.shards) throw new ConfigError('shard map: changing the shard count is a re-shard, not a rebalance');
  const merged: ShardMapOptions = {
    shards,
    replicas: options?.replicas ?? current?.replicas ?? 1,
    distinctZones: options?.distinctZones ?? current?.distinctZones ?? false,
  };
  const { replicas, distinctZones } = checkOptions(merged, canon);
  const n = canon.length;
  const indexById = new Map(canon.map((node, i) => [node.id, i]));
  const zoneNames = new Map<string, number>();
  const zone = canon.map((node) => {
    const z = zoneOf(node);
    if (!zoneNames.has(z)) zoneNames.set(z, zoneNames.size);
    return zoneNames.get(z) as number;
  });
  const quotaById = distinctZones ? apportionByZone(canon, shards * replicas, shards) : apportion(canon, shards * replicas, shards);
  const quota = canon.map((node) => quotaById.get(node.id) ?? 0);
  const count = new Array<number>(n).fill(0);
  const room = (i: number) => (quota[i] as number) - (count[i] as number);

  // slots[s][rank]: node index, or -1 for a hole to fill. from[s][rank]: who gave the hole up.
  const slots: number[][] = [];
  const from: (string | null)[][] = [];
  const dropped: string[][] = []; // replicas dropped with no slot to refill (replica count shrank)
  let lowerBound = 0;

  // 1. Keep surviving replicas in order (zone rule: the first in a zone stays). Where the
  //    replica count shrank, drop the survivors of the nodes furthest above quota.
  const survivors: number[][] = [];
  const gone: string[][] = [];
  for (let s = 0; s < shards; s++) {
    const kept: number[] = [];
    const lost: string[] = [];
    for (const id of current?.assignment[s] ?? []) {
      const i = indexById.get(id);
      if (i === undefined || (distinctZones && kept.some((k) => zone[k] === zone[i]))) lost.push(id);
      else {
        kept.push(i);
        count[i] = (count[i] as number) + 1;
      }
    }
    survivors.push(kept);
    gone.push(lost);
  }
  // A lower bound on moves for ANY plan meeting the quotas (a move removes at most one replica
  // and adds at most one, within one shard):
  //   A = Σ_s max(lost_s + max(0, kept_s − R), max(0, R − kept_s))   (per-shard removals/additions)
  //   B = Σ_s lost_s + Σ_i max(0, kept_i − quota_i)                   (replicas that must leave)
  {
    let a = 0;
    let b = 0;
    for (let s = 0; s < shards; s++) {
      const lost = (gone[s] as string[]).length;
      const kept = (survivors[s] as number[]).length;
      a += Math.max(lost + Math.max(0, kept - replicas), Math.max(0, replicas - kept));
      b += lost;
    }
    for (let i = 0; i < n; i++) b += Math.max(0, -room(i));
    lowerBound = Math.max(a, b);
  }
  for (let s = 0; s < shards; s++) {
    const kept = survivors[s] as number[];
    while (kept.length > replicas) {
      let worst = kept.length - 1;
      for (let r = kept.length - 1; r >= 0; r--) if (room(kept[r] as number) < room(kept[worst] as number)) worst = r;
      const [i] = kept.splice(worst, 1) as [number];
      count[i] = (count[i] as number) - 1;
      (gone[s] as string[]).push((canon[i] as NodeSpec).id);
    }
  }
  const gaveUp: Set<number>[] = gone.map((ids) => new Set(ids.map((id) => indexById.get(id) ?? -1)));
  for (let s = 0; s < shards; s++) {
    const kept = survivors[s] as number[];
    const lost = gone[s] as string[];
    const holes = replicas - kept.length;
    slots.push([...kept, ...new Array<number>(holes).fill(-1)]);
    from.push([...new Array<string | null>(kept.length).fill(null), ...lost.slice(0, holes), ...new Array<string | null>(Math.max(0, holes - lost.length)).fill(null)]);
    dropped.push(lost.slice(holes));
  }

  const eligible = (s: number, rank: number, i: number): boolean => {
    const list = slots[s] as number[];
    for (let r = 0; r < list.length; r++) {
      if (r === rank) continue;
      const j = list[r] as number;
      if (j === i || (distinctZones && j >= 0 && zone[j] === zone[i])) return false;
    }
    return true;
  };

  // 2. Nodes above quota give up their excess. First pass: only where the shard has no other
  //    hole and some node below quota (counting takers already reserved) could take the replica;
  //    second pass: anywhere. Non-primary ranks first.
  const reserved = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const id = (canon[i] as NodeSpec).id;
    if (room(i) >= 0) continue;
    for (const pass of [0, 1]) {
      for (let rank = replicas - 1; rank >= 0 && room(i) < 0; rank--) {
        for (let s = shards - 1; s >= 0 && room(i) < 0; s--) {
          const list = slots[s] as number[];
          if (list[rank] !== i) continue;
          if (pass === 0) {
            if (list.includes(-1)) continue;
            list[rank] = -1;
            let taker = -1;
            for (let j = 0; j < n; j++) {
              const free = room(j) - (reserved[j] as number);
              if (free > 0 && eligible(s, rank, j) && (taker < 0 || free > room(taker) - (reserved[taker] as number))) taker = j;
            }
            list[rank] = i;
            if (taker < 0) continue;
            reserved[taker] = (reserved[taker] as number) + 1;
          }
          list[rank] = -1;
          (from[s] as (string | null)[])[rank] = id;
          (gaveUp[s] as Set<number>).add(i);
          count[i] = (count[i] as number) - 1;
        }
      }
    }
  }

  const wasHole = slots.map((list) => list.map((i) => i === -1));

  // 3. Fill the holes: a bipartite b-matching of holes to nodes (capacity = room), augmenting
  //    through other holes' tentative choices so a full node can pass a hole on. Holes are not
  //    moves yet, so re-choosing them costs nothing.
  const holesOf: number[][] = Array.from({ length: n }, () => []); // node → hole ids (s * R + rank)
  const assign = (h: number, i: number) => {
    (slots[Math.floor(h / replicas)] as number[])[h % replicas] = i;
    count[i] = (count[i] as number) + 1;
    (holesOf[i] as number[]).push(h);
  };
  const unassign = (h: number, i: number) => {
    (slots[Math.floor(h / replicas)] as number[])[h % replicas] = -1;
    count[i] = (count[i] as number) - 1;
    const list = holesOf[i] as number[];
    list.splice(list.indexOf(h), 1);
  };
  // Most room first; among equals, a per-(slot, node) hash, so replicas of one node spread over
  // many partners and a departed node's shards can be taken over by every other node.
  const nodeHash = canon.map((node) => placementHash(node.id));
  const prefer = (h: number, i: number, j: number): boolean =>
    room(i) > room(j) || (room(i) === room(j) && mix2(h, nodeHash[i] as number) > mix2(h, nodeHash[j] as number));
  const tryPlace = (h: number, visited: Uint8Array): boolean => {
    const s = Math.floor(h / replicas);
    const rank = h % replicas;
    const excluded = gaveUp[s] as Set<number>;
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (visited[i] === 0 && room(i) > 0 && !excluded.has(i) && eligible(s, rank, i) && (best < 0 || prefer(h, i, best))) best = i;
    }
    if (best >= 0) {
      assign(h, best);
      return true;
    }
    for (let i = 0; i < n; i++) {
      if (visited[i] === 1 || excluded.has(i) || !eligible(s, rank, i)) continue;
      visited[i] = 1;
      for (const h2 of (holesOf[i] as number[]).slice()) {
        if (Math.floor(h2 / replicas) === s) continue;
        unassign(h2, i);
        if (tryPlace(h2, visited)) {
          assign(h, i);
          return true;
        }
        assign(h2, i);
      }
    }
    return false;
  };
  const overQuota = new Set<string>();
  for (let s = 0; s < shards; s++) {
    for (let rank = 0; rank < replicas; rank++) {
      if ((slots[s] as number[])[rank] !== -1) continue;
      const h = s * replicas + rank;
      if (tryPlace(h, new Uint8Array(n))) continue;
      // No placement within quotas: take the eligible node with the most room, one that did not
      // just give up a replica of this shard if possible.
      const excluded = gaveUp[s] as Set<number>;
      let best = -1;
      for (let i = 0; i < n; i++) {
        if (!eligible(s, rank, i)) continue;
        const better = best < 0 || (excluded.has(best) && !excluded.has(i)) || (excluded.has(best) === excluded.has(i) && room(i) > room(best));
        if (better) best = i;
      }
      if (best < 0) throw new Error('shard map: no eligible node (impossible: replicas <= nodes and zones were checked)');
      assign(h, best);
    }
  }
  // 4. Nodes still above quota (the surviving layout left a hole that no node below quota could
  //    take): hand replicas along the cheapest chain o → x1 → … → u, where each hop gives one of
  //    a node's slots to a node eligible for it and u is below quota. Re-choosing a filled hole
  //    is free; moving a kept replica is a move beyond the lower bound, counted in `extraMoves`.
  //    A 0-1 breadth-first search finds the chain; CHAIN_WORK_MAX bounds the search.
  const extra: ShardMove[] = [];
  const slotCount = shards * replicas;
  let work = 0;
  const chainFix = (o: number): boolean => {
    const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    const prev = new Int32Array(n).fill(-1);
    const via = new Int32Array(n).fill(-1);
    dist[o] = 0;
    const deque: number[] = [o];
    const done = new Uint8Array(n);
    while (deque.length > 0) {
      const x = deque.shift() as number;
      if (done[x] === 1) continue;
      done[x] = 1;
      if (x !== o && room(x) > 0) {
        const touched: number[] = [];
        for (let y = x; y !== o; y = prev[y] as number) touched.push(via[y] as number);
        if (new Set(touched.map((h) => Math.floor(h / replicas))).size !== touched.length) return false;
        for (let y = x; y !== o; ) {
          const h = via[y] as number;
          const from = prev[y] as number;
          (slots[Math.floor(h / replicas)] as number[])[h % replicas] = y;
          count[from] = (count[from] as number) - 1;
          count[y] = (count[y] as number) + 1;
          if (!(wasHole[Math.floor(h / replicas)] as boolean[])[h % replicas]) {
            extra.push({ shard: Math.floor(h / replicas), from: (canon[from] as NodeSpec).id, to: (canon[y] as NodeSpec).id });
          }
          y = from;
        }
        return true;
      }
      for (let h = 0; h < slotCount; h++) {
        const sh = Math.floor(h / replicas);
        const rank = h % replicas;
        if ((slots[sh] as number[])[rank] !== x) continue;
        const cost = (wasHole[sh] as boolean[])[rank] ? 0 : 1;
        for (let y = 0; y < n; y++) {
          if (++work > CHAIN_WORK_MAX) return false;
          if (y === x || done[y] === 1 || (dist[x] as number) + cost >= (dist[y] as number) || !eligible(sh, rank, y)) continue;
          dist[y] = (dist[x] as number) + cost;
          prev[y] = x;
          via[y] = h;
          if (cost === 0) deque.unshift(y);
          else deque.push(y);
        }
      }
    }
    return false;
  };
  for (let o = 0; o < n; o++) {
    while (room(o) < 0) if (!chainFix(o)) break;
  }
  for (let i = 0; i < n; i++) if (room(i) < 0) overQuota.add((canon[i] as NodeSpec).id);

  const moves: ShardMove[] = [];
  const lists: string[][] = [];
  for (let s = 0; s < shards; s++) {
    const list = (slots[s] as number[]).map((i) => (canon[i] as NodeSpec).id);
    lists.push(list);
    // A node that gave up a replica and got it back (only when no other node could take it)
    // keeps its data: no move for it.
    const stays = new Set(list);
    const lostHere = (from[s] as (string | null)[]).filter((f, rank) => f !== null && (wasHole[s] as boolean[])[rank]);
    const sources = [...lostHere, ...(dropped[s] as string[])].filter((f): f is string => f !== null && !stays.has(f));
    let k = 0;
    for (let rank = 0; rank < replicas; rank++) {
      const to = list[rank] as string;
      if (!(wasHole[s] as boolean[])[rank] || (gone[s] as string[]).includes(to) || lostHere.includes(to)) continue;
      moves.push({ shard: s, from: sources[k++] ?? null, to });
    }
    for (; k < sources.length; k++) moves.push({ shard: s, from: sources[k] as string, to: null });
  }
  moves.push(...extra);
  const map = new ShardMap(canon, merged, lists);
  return { map, moves, lowerBound, extraMoves: extra.length, quotas: quotaById, overQuota: [...overQuota] };
}
