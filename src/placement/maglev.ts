/**
 * Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
 * Balancer", NSDI 2016, section 3.4): a lookup table of prime size M (default 65537) that each
 * node fills in turn from its own permutation of the slots,
 * permutation_i[j] = (offset_i + j · skip_i) mod M with offset_i = h1(id) mod M and
 * skip_i = h2(id) mod (M - 1) + 1. At equal weights every node ends with ⌊M/n⌋ or ⌈M/n⌉ slots,
 * so the table is balanced to within one slot; a key goes to table[hash mod M], one array read.
 *
 * Weights: in round t a node takes a turn only while its slots < t · w_i / w_max, so slot counts
 * follow the weights (the heaviest node takes a turn every round).
 *
 * Disruption is near-minimal, not minimal: when a node joins or leaves, some slots also change
 * hands between other nodes (the paper measures this; the conformance suite bounds it at 10
 * nodes). It grows with n/M: at 1000 nodes and M = 65537 about 7x the ideal 1/(n+1) of keys move.
 * Preference order for replicas and bounded load: distinct owners of the slots after the key's.
 *
 * Left out: the paper's connection tracking (a proxy concern, not placement).
 */
import { ConfigError } from '../core/errors.ts';
import { placementHash } from './hash.ts';
import { canonicalNodes, checkCount, preferenceCollector, weightOf } from './nodes.ts';
import type { NodeSpec, PreferenceOptions, WalkablePlacement } from './types.ts';

export interface MaglevOptions {
  /** Lookup table size, a prime > number of nodes (default 65537; ≥ 100·n keeps slots within 1%). */
  readonly tableSize?: number;
}

export const MAGLEV_TABLE_SIZE_DEFAULT = 65537;
/** Upper bound on the table size (4 bytes per slot). */
export const MAGLEV_TABLE_SIZE_MAX = 16_777_259;

const SEED_OFFSET = 0x6d61676c; // "magl"
const SEED_SKIP = 0x65762121; // "ev!!"

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

export class Maglev implements WalkablePlacement {
  readonly kind = 'maglev' as const;
  readonly nodes: readonly NodeSpec[];
  readonly tableSize: number;
  readonly memoryBytes: number;
  private readonly table: Uint16Array | Uint32Array;
  private readonly stamps: Uint32Array;
  private epoch = 0;

  constructor(nodes: readonly NodeSpec[], options: MaglevOptions = {}) {
    this.nodes = canonicalNodes(nodes, 'maglev');
    const m = options.tableSize ?? MAGLEV_TABLE_SIZE_DEFAULT;
    if (!isPrime(m) || m > MAGLEV_TABLE_SIZE_MAX) {
      throw new ConfigError(`maglev: tableSize must be a prime <= ${MAGLEV_TABLE_SIZE_MAX}, got ${m}`);
    }
    if (m <= this.nodes.length) throw new ConfigError(`maglev: tableSize ${m} must exceed the number of nodes (${this.nodes.length}); use a prime >= 100 x nodes`);
    this.tableSize = m;
    this.table = this.nodes.length <= 0xffff ? new Uint16Array(m) : new Uint32Array(m);
    this.fill();
    this.stamps = new Uint32Array(this.nodes.length);
    this.memoryBytes = this.table.byteLength;
  }

  private fill(): void {
    const m = this.tableSize;
    const n = this.nodes.length;
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n); // current permutation position, as a slot number
    const taken = new Float64Array(n);
    const share = new Float64Array(n);
    let wMax = 0;
    for (const node of this.nodes) wMax = Math.max(wMax, weightOf(node));
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i] as NodeSpec;
      offset[i] = placementHash(node.id, SEED_OFFSET) % m;
      skip[i] = (placementHash(node.id, SEED_SKIP) % (m - 1)) + 1;
      next[i] = offset[i] as number;
      share[i] = weightOf(node) / wMax;
    }
    const filled = new Uint8Array(m);
    let count = 0;
    for (let round = 1; count < m; round++) {
      for (let i = 0; i < n && count < m; i++) {
        if ((taken[i] as number) >= round * (share[i] as number)) continue;
        let c = next[i] as number;
        const s = skip[i] as number;
        while (filled[c] === 1) {
          c += s;
          if (c >= m) c -= m;
        }
        filled[c] = 1;
        this.table[c] = i;
        c += s;
        if (c >= m) c -= m;
        next[i] = c;
        taken[i] = (taken[i] as number) + 1;
        count++;
      }
    }
  }

  /** Number of table slots owned by each node (index order). */
  slotCounts(): number[] {
    const counts = new Array<number>(this.nodes.length).fill(0);
    for (const owner of this.table) counts[owner] = (counts[owner] ?? 0) + 1;
    return counts;
  }

  hashKey(key: string): number {
    return placementHash(key);
  }

  lookupHashIndex(hash: number): number {
    return this.table[(hash >>> 0) % this.tableSize] as number;
  }

  lookupIndex(key: string): number {
    return this.table[placementHash(key) % this.tableSize] as number;
  }

  lookup(key: string): string {
    return (this.nodes[this.lookupIndex(key)] as NodeSpec).id;
  }

  walk(hash: number, visit: (index: number) => boolean): void {
    const n = this.nodes.length;
    const m = this.tableSize;
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    let slot = (hash >>> 0) % m;
    let seen = 0;
    for (let step = 0; step < m && seen < n; step++) {
      const owner = this.table[slot] as number;
      if (this.stamps[owner] !== epoch) {
        this.stamps[owner] = epoch;
        seen++;
        if (visit(owner)) return;
      }
      slot = slot + 1 === m ? 0 : slot + 1;
    }
  }

  preference(key: string, count: number, options?: PreferenceOptions): string[] {
    checkCount(count);
    const { visit, out } = preferenceCollector(this.nodes, count, options);
    this.walk(placementHash(key), visit);
    return out;
  }

  withNodes(nodes: readonly NodeSpec[]): Maglev {
    return new Maglev(nodes, { tableSize: this.tableSize });
  }
}

export function createMaglev(nodes: readonly NodeSpec[], options: MaglevOptions = {}): Maglev {
  return new Maglev(nodes, options);
}
