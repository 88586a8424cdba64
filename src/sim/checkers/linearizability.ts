/**
 * Linearizability checker for key-value register histories (read / write / cas per key).
 *
 * Implements:
 * - Herlihy & Wing (1990), "Linearizability: a correctness condition for concurrent objects":
 *   locality (P-compositionality): a history is linearizable iff each object's sub-history is,
 *   so every key is checked on its own.
 * - Wing & Gong (1993) search for a linearization, in Lowe's (2017, "Testing for
 *   linearizability") just-in-time form: walk a list of call and return entries in history
 *   order; at a call, try to linearize that operation now (the model accepts it in the current
 *   state); at a return whose call is not yet linearized, backtrack. Lowe's cache memoizes
 *   every (set of linearized operations, model state) pair already explored, which makes the
 *   search polynomial on the histories real systems produce.
 *
 * Jepsen semantics: `fail` operations never happened and are dropped. `info` and pending
 * operations may have happened at any point after their invoke, or never: they have no return
 * entry (an open-ended call), and the search succeeds once every `ok` operation is placed, so
 * they may be left out. An `info` read constrains nothing and is dropped. A read returns null
 * for an absent key (the initial state). A cas [from, to] succeeds only if the current value
 * equals `from` (strict equality: 1 and "1" differ).
 *
 * Leaves out: other data types (queues, sets), and Knossos's "linear" (breadth-first
 * configuration) search. A search that exceeds its step or memory budget reports `unknown`.
 */
import { assert, unreachable } from '../../core/assert.ts';
import { InvalidArgumentError } from '../../core/errors.ts';
import { createRng } from '../../core/rng.ts';
import type { HistoryEvent, KvValue } from '../history.ts';
import { describeOperation, type KvOperation, pairOperations } from './operations.ts';

export interface LinearizabilityOptions {
  /** Search steps (list entries visited) per key before giving up with `unknown`. */
  stepsMaxPerKey?: number;
  /** Memo-cache size per key, in 32-bit words of stored bitsets, before giving up with `unknown`. */
  cacheWordsMaxPerKey?: number;
  /** Lowe's cache (on by default). Off only to measure what it buys. */
  memoize?: boolean;
  /** Value of every key before the history (default null: absent). */
  initialValue?: KvValue;
  /** Stop at the first key that is not linearizable (default true). */
  stopAtFirstFailure?: boolean;
}

export const LINEARIZABILITY_DEFAULTS = {
  stepsMaxPerKey: 50_000_000,
  cacheWordsMaxPerKey: 32 * 1024 * 1024,
} as const;

export interface KeyReport {
  key: string;
  /** Operations considered (ok + info + pending; fail and info reads are dropped). */
  opsChecked: number;
  opsOk: number;
  opsIndeterminate: number;
  opsDropped: number;
  outcome: 'linearizable' | 'not-linearizable' | 'unknown' | 'skipped';
  steps: number;
  cacheEntries: number;
  elapsedMs: number;
}

/** Why a key is not linearizable: the longest prefix the search could place, and what came next. */
export interface NonLinearizableExplanation {
  key: string;
  /** The longest linearizable prefix found, in linearization order. */
  prefix: KvOperation[];
  /** The register's value after the prefix. */
  stateAfterPrefix: KvValue;
  /** The completed operation that could not be placed after the prefix. */
  unplaceable: KvOperation;
  /** One sentence: why it could not be placed. */
  reason: string;
}

export type LinearizabilityResult =
  | { outcome: 'linearizable'; keys: KeyReport[]; opsTotal: number }
  | { outcome: 'not-linearizable'; keys: KeyReport[]; opsTotal: number; failure: NonLinearizableExplanation; failures: NonLinearizableExplanation[] }
  | { outcome: 'unknown'; keys: KeyReport[]; opsTotal: number; unknownKeys: string[]; detail: string };

/** Checks a history of events (invoke + completion pairs). Throws HistoryFormatError when malformed. */
export function checkLinearizable(history: readonly HistoryEvent[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  return checkOperations(pairOperations(history), options);
}

/** Checks already-paired operations (see `pairOperations`). */
export function checkOperations(ops: readonly KvOperation[], options: LinearizabilityOptions = {}): LinearizabilityResult {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (list === undefined) {
      list = [];
      byKey.set(op.key, list);
    }
    list.push(op);
  }
  const keys = [...byKey.keys()].sort();
  const reports: KeyReport[] = [];
  const failures: NonLinearizableExplanation[] = [];
  const unknownKeys: string[] = [];
  let detail = '';
  const stop = options.stopAtFirstFailure ?? true;
  for (const key of keys) {
    const keyOps = byKey.get(key) as KvOperation[];
    if (stop && failures.length > 0) {
      reports.push({ key, opsChecked: 0, opsOk: 0, opsIndeterminate: 0, opsDropped: 0, outcome: 'skipped', steps: 0, cacheEntries: 0, elapsedMs: 0 });
      continue;
    }
    const r = checkKey(key, keyOps, options);
    reports.push(r.report);
    if (r.failure !== undefined) failures.push(r.failure);
    if (r.report.outcome === 'unknown') {
      unknownKeys.push(key);
      detail ||= r.detail;
    }
  }
  const first = failures[0];
  if (first !== undefined) return { outcome: 'not-linearizable', keys: reports, opsTotal: ops.length, failure: first, failures };
  if (unknownKeys.length > 0) return { outcome: 'unknown', keys: reports, opsTotal: ops.length, unknownKeys, detail };
  return { outcome: 'linearizable', keys: reports, opsTotal: ops.length };
}

// ---------------------------------------------------------------------------------------------
// Register model over interned values: state and values are small integers, so the cache can
// compare states cheaply. Value 0 is null.

class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: KvValue[] = [];
  id(v: KvValue): number {
    const k = v === null ? 'z' : typeof v === 'number' ? `n${v}` : `s${v}`;
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(k, id);
      this.values.push(v);
    }
    return id;
  }
}

const F_READ = 0;
const F_WRITE = 1;
const F_CAS = 2;

interface KeyCheck {
  report: KeyReport;
  failure?: NonLinearizableExplanation;
  detail: string;
}

// Zobrist table: two 32-bit words per operation slot, from a fixed seed (deterministic runs).
let zobristLo = new Int32Array(0);
let zobristHi = new Int32Array(0);
function ensureZobrist(n: number): void {
  if (zobristLo.length >= n) return;
  const size = Math.max(n, zobristLo.length * 2, 1024);
  const rng = createRng(0x5eed_11ce);
  const lo = new Int32Array(size);
  const hi = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    lo[i] = rng.nextU32() | 0;
    hi[i] = (rng.nextU32() & 0x1fffff) | 0;
  }
  zobristLo = lo;
  zobristHi = hi;
}

function checkKey(key: string, keyOps: readonly KvOperation[], options: LinearizabilityOptions): KeyCheck {
  const started = performance.now();
  const stepsMax = options.stepsMaxPerKey ?? LINEARIZABILITY_DEFAULTS.stepsMaxPerKey;
  const cacheWordsMax = options.cacheWordsMaxPerKey ?? LINEARIZABILITY_DEFAULTS.cacheWordsMaxPerKey;
  const memoize = options.memoize ?? true;
  if (!(Number.isSafeInteger(stepsMax) && stepsMax > 0)) throw new InvalidArgumentError(`stepsMaxPerKey must be a positive integer, got ${stepsMax}`);
  if (!(Number.isSafeInteger(cacheWordsMax) && cacheWordsMax > 0)) throw new InvalidArgumentError(`cacheWordsMaxPerKey must be a positive integer, got ${cacheWordsMax}`);

  // Drop what cannot constrain the search: failed operations, and reads with unknown results.
  const ops: KvOperation[] = [];
  let opsDropped = 0;
  let opsOk = 0;
  for (const op of keyOps) {
    if (op.status === 'fail' || (op.f === 'read' && op.status !== 'ok')) {
      opsDropped++;
      continue;
    }
    if (op.status === 'ok') opsOk++;
    ops.push(op);
  }
  const n = ops.length;
  const interner = new Interner();
  const initial = interner.id(options.initialValue ?? null);
  const fn = new Uint8Array(n);
  const arg1 = new Int32Array(n); // read: value read; write: value; cas: from
  const arg2 = new Int32Array(n); // cas: to
  const open = new Uint8Array(n); // 1: info/pending (no return entry)
  for (let i = 0; i < n; i++) {
    const op = ops[i] as KvOperation;
    switch (op.f) {
      case 'read':
        fn[i] = F_READ;
        arg1[i] = interner.id(op.value as KvValue);
        break;
      case 'write':
        fn[i] = F_WRITE;
        arg1[i] = interner.id(op.value as KvValue);
        break;
      case 'cas': {
        const [from, to] = op.value as readonly [KvValue, KvValue];
        fn[i] = F_CAS;
        arg1[i] = interner.id(from);
        arg2[i] = interner.id(to);
        break;
      }
      default:
        unreachable(op.f, 'operation function');
    }
    open[i] = op.status === 'ok' ? 0 : 1;
  }

  // Entry list: entry 2i is op i's call, 2i+1 its return; HEAD is a sentinel. Entries are
  // ordered by history position; open operations have no return entry.
  const HEAD = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  {
    const positions: number[] = [];
    for (let i = 0; i < n; i++) {
      const op = ops[i] as KvOperation;
      positions.push(2 * i);
      if (open[i] === 0) positions.push(2 * i + 1);
      assert(op.status !== 'ok' || op.completeIndex > op.invokeIndex, 'completion after invoke');
    }
    const posOf = (e: number): number => {
      const op = ops[e >> 1] as KvOperation;
      return (e & 1) === 0 ? op.invokeIndex : op.completeIndex;
    };
    positions.sort((a, b) => posOf(a) - posOf(b));
    let last = HEAD;
    for (const e of positions) {
      next[last] = e;
      prev[e] = last;
      last = e;
    }
  }

  const lift = (call: number): void => {
    const p = prev[call] as number;
    const nx = next[call] as number;
    next[p] = nx;
    if (nx >= 0) prev[nx] = p;
    if (open[call >> 1] === 0) {
      const ret = call + 1;
      const rp = prev[ret] as number;
      const rn = next[ret] as number;
      next[rp] = rn;
      if (rn >= 0) prev[rn] = rp;
    }
  };
  const unlift = (call: number): void => {
    if (open[call >> 1] === 0) {
      const ret = call + 1;
      const rp = prev[ret] as number;
      const rn = next[ret] as number;
      next[rp] = ret;
      if (rn >= 0) prev[rn] = ret;
    }
    const p = prev[call] as number;
    const nx = next[call] as number;
    next[p] = call;
    if (nx >= 0) prev[nx] = call;
  };

  /** New state after op i in `state`, or -1 when the model rejects it there. */
  const step = (state: number, i: number): number => {
    switch (fn[i]) {
      case F_READ:
        return arg1[i] === state ? state : -1;
      case F_WRITE:
        return arg1[i] as number;
      default:
        return arg1[i] === state ? (arg2[i] as number) : -1;
    }
  };

  // Lowe's cache: (bitset of linearized ops, state) pairs already explored.
  ensureZobrist(n);
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const cache = new Map<number, { bits: Uint32Array; state: number }[]>();
  let cacheEntries = 0;
  let cacheWords = 0;
  let hashLo = 0;
  let hashHi = 0;
  const cacheKey = (lo: number, hi: number, state: number): number => {
    const l = (lo ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    return (hi & 0x1fffff) * 0x1_0000_0000 + l;
  };
  const sameBits = (a: Uint32Array): boolean => {
    for (let w = 0; w < words; w++) if (a[w] !== bits[w]) return false;
    return true;
  };
  /** Adds the current bitset with `state`; false if it was already there. */
  const cacheAdd = (k: number, state: number): boolean => {
    const bucket = cache.get(k);
    if (bucket !== undefined) {
      for (const c of bucket) if (c.state === state && sameBits(c.bits)) return false;
      bucket.push({ bits: bits.slice(), state });
    } else {
      cache.set(k, [{ bits: bits.slice(), state }]);
    }
    cacheEntries++;
    cacheWords += words + 4;
    return true;
  };

  let remainingOk = opsOk;
  let state = initial;
  const stackCall: number[] = [];
  const stackState: number[] = [];
  let steps = 0;
  let bestDepth = -1;
  let bestPrefix: number[] = [];
  let bestState = initial;
  let bestBlocked = -1;
  let bestBlockedIllegal = true;
  let outcome: KeyReport['outcome'] = 'linearizable';
  let detail = '';
  let entry = next[HEAD] as number;

  while (remainingOk > 0) {
    if (++steps > stepsMax) {
      outcome = 'unknown';
      detail = `search exceeded ${stepsMax} steps on key ${JSON.stringify(key)}`;
      break;
    }
    if (cacheWords > cacheWordsMax) {
      outcome = 'unknown';
      detail = `memo cache exceeded ${cacheWordsMax} words on key ${JSON.stringify(key)}`;
      break;
    }
    assert(entry >= 0, 'search walked past the end with ok operations left');
    const i = entry >> 1;
    if ((entry & 1) === 0) {
      // A call: try to linearize operation i now.
      const s2 = step(state, i);
      if (s2 >= 0) {
        const w = i >>> 5;
        const m = 1 << (i & 31);
        bits[w] = (bits[w] as number) | m;
        const lo2 = hashLo ^ (zobristLo[i] as number);
        const hi2 = hashHi ^ (zobristHi[i] as number);
        if (!memoize || cacheAdd(cacheKey(lo2, hi2, s2), s2)) {
          stackCall.push(entry);
          stackState.push(state);
          state = s2;
          hashLo = lo2;
          hashHi = hi2;
          if (open[i] === 0) remainingOk--;
          lift(entry);
          entry = next[HEAD] as number;
          continue;
        }
        bits[w] = (bits[w] as number) & ~m;
      }
      entry = next[entry] as number;
      continue;
    }
    // A return whose call is not linearized: this branch is dead; note it, then backtrack.
    if (stackCall.length > bestDepth) {
      bestDepth = stackCall.length;
      bestPrefix = stackCall.map((c) => c >> 1);
      bestState = state;
      bestBlocked = i;
      bestBlockedIllegal = step(state, i) < 0;
    }
    const call = stackCall.pop();
    if (call === undefined) {
      outcome = 'not-linearizable';
      break;
    }
    state = stackState.pop() as number;
    const j = call >> 1;
    bits[j >>> 5] = (bits[j >>> 5] as number) & ~(1 << (j & 31));
    hashLo ^= zobristLo[j] as number;
    hashHi ^= zobristHi[j] as number;
    if (open[j] === 0) remainingOk++;
    unlift(call);
    entry = next[call] as number;
  }

  const report: KeyReport = {
    key,
    opsChecked: n,
    opsOk,
    opsIndeterminate: n - opsOk,
    opsDropped,
    outcome,
    steps,
    cacheEntries,
    elapsedMs: performance.now() - started,
  };
  if (outcome !== 'not-linearizable') return { report, detail };
  assert(bestBlocked >= 0, 'a failed search has met a return entry');
  const blocked = ops[bestBlocked] as KvOperation;
  const stateValue = interner.values[bestState] ?? null;
  return {
    report,
    detail,
    failure: {
      key,
      prefix: bestPrefix.map((i) => ops[i] as KvOperation),
      stateAfterPrefix: stateValue,
      unplaceable: blocked,
      reason: explain(blocked, stateValue, bestBlockedIllegal),
    },
  };
}

function explain(op: KvOperation, state: KvValue, illegal: boolean): string {
  const what = describeOperation(op);
  const held = `the register held ${JSON.stringify(state)}`;
  if (!illegal) {
    return `${what} completed, and every order of it with the operations concurrent to it was tried and leads to a dead end (${held})`;
  }
  switch (op.f) {
    case 'read':
      return `${what} returned ${JSON.stringify(op.value)}, but after the prefix ${held}, and no concurrent operation could make it ${JSON.stringify(op.value)} before the read completed`;
    case 'cas': {
      const [from] = op.value as readonly [KvValue, KvValue];
      return `${what} succeeded, so the register held ${JSON.stringify(from)}, but after the prefix ${held}, and no concurrent operation could make it ${JSON.stringify(from)} before the cas completed`;
    }
    case 'write':
      return `${what} could not be placed (${held})`;
    default:
      return unreachable(op.f, 'operation function');
  }
}
