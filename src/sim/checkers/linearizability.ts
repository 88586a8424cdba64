/**
 * Linearizability checker for key-value register histories (read / write / cas per key).
 *
 * Implements:
 * - Herlihy & Wing (1990), "Linearizability: a correctness condition for concurrent objects":
 *   locality (P-compositionality): a history is linearizable iff each object's sub-history is,
 *   so every key is checked on its own.
 * - Wing & Gong (1993) search for a linearization, in Lowe's (2017, "Testing for
 *   linearizability") just-in-time form: a list of call and return entries in history order
 *   holds the operations not yet linearized; the candidates are the calls before the first
 *   return; place one the model accepts and repeat, or backtrack when none fits. Lowe's cache
 *   memoizes every (set of linearized operations, model state) pair already explored.
 * - Prunings of our own, each argued where it is coded: candidates tried read-only first then
 *   by deadline; a read-only op that fits is placed with no alternative tried; blind writes
 *   (nobody needs their value) only go just before another write; open writes whose value
 *   nobody needs are dropped. A brute-force checker in the tests agrees with this
 *   one on thousands of small random histories.
 *
 * Jepsen semantics: `fail` operations never happened and are dropped. `info` and pending
 * operations may have happened at any point after their invoke, or never: they have no return
 * entry (an open-ended call), and the search succeeds once every `ok` operation is placed, so
 * they may be left out. An `info` read constrains nothing and is dropped, and so is an open
 * write or cas whose resulting value no operation ever needs. A read returns null
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
  /** Memo-cache size per key, in 32-bit words (stored sets plus per-entry overhead, approximate), before giving up with `unknown`. */
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

  // Drop what cannot constrain the search: failed operations, reads with unknown results, and
  // open (info/pending) writes and cas whose resulting value no kept operation ever needs. Such
  // an op may be left out of any linearization: between it and the next write, nothing can
  // depend on the value it wrote. "Needed" values are those ok reads return and cas compare
  // against (ok cas, and open cas that are kept themselves, to a fixpoint).
  const valueKey = (v: KvValue): string => (v === null ? 'z' : typeof v === 'number' ? `n${v}` : `s${v}`);
  const needed = new Set<string>();
  for (const op of keyOps) {
    if (op.status !== 'ok') continue;
    if (op.f === 'read') needed.add(valueKey(op.value as KvValue));
    if (op.f === 'cas') needed.add(valueKey((op.value as readonly [KvValue, KvValue])[0]));
  }
  const keptOpen = new Set<KvOperation>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const op of keyOps) {
      if ((op.status !== 'info' && op.status !== 'pending') || op.f === 'read' || keptOpen.has(op)) continue;
      const out = op.f === 'write' ? (op.value as KvValue) : (op.value as readonly [KvValue, KvValue])[1];
      if (!needed.has(valueKey(out))) continue;
      keptOpen.add(op);
      changed = true;
      if (op.f === 'cas') needed.add(valueKey((op.value as readonly [KvValue, KvValue])[0]));
    }
  }
  const ops: KvOperation[] = [];
  let opsDropped = 0;
  let opsOk = 0;
  for (const op of keyOps) {
    if (op.status === 'ok' || keptOpen.has(op)) {
      if (op.status === 'ok') opsOk++;
      ops.push(op);
    } else {
      opsDropped++;
    }
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

  // Lowe's cache: (set of linearized ops, state) pairs already explored. The set is hashed
  // incrementally (Zobrist) and stored compactly: ops are numbered in invoke order, and every
  // linearized op was invoked before the earliest unlinearized ok op (the frontier f) returned,
  // since the walk backtracks at that return. So the set is: every ok op below f, the info ops
  // below f except the listed "holes", and the listed bits of ops in [f, windowEnd[f]).
  ensureZobrist(n);
  const words = (n + 31) >>> 5;
  const bits = new Uint32Array(words);
  const isSet = (i: number): boolean => ((bits[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  // windowEnd[i]: the first op invoked after op i's completion (ok ops; n for open ones).
  const windowEnd = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const op = ops[i] as KvOperation;
    if (open[i] === 1) {
      windowEnd[i] = n;
      continue;
    }
    let lo = i + 1;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ops[mid] as KvOperation).invokeIndex < op.completeIndex) lo = mid + 1;
      else hi = mid;
    }
    windowEnd[i] = lo;
  }
  windowEnd[n] = n;
  const openIds: number[] = [];
  for (let i = 0; i < n; i++) if (open[i] === 1) openIds.push(i);
  const nextFrontier = (f: number): number => {
    while (f < n && (open[f] === 1 || isSet(f))) f++;
    return f;
  };
  let frontier = nextFrontier(0);
  const encode = (f: number): Int32Array => {
    const out: number[] = [f];
    const end = windowEnd[f] as number;
    if (f < end) for (let w = f >>> 5; w <= (end - 1) >>> 5; w++) out.push(bits[w] as number);
    out.push(-1);
    for (let k = 0; k < openIds.length; k++) {
      const id = openIds[k] as number;
      if (id >= f) break;
      if (!isSet(id)) out.push(id);
    }
    return Int32Array.from(out);
  };
  const sameCode = (a: Int32Array, b: Int32Array): boolean => {
    if (a.length !== b.length) return false;
    for (let x = 0; x < a.length; x++) if (a[x] !== b[x]) return false;
    return true;
  };
  const cache = new Map<number, { code: Int32Array; state: number }[]>();
  let cacheEntries = 0;
  let cacheWords = 0;
  let hashLo = 0;
  let hashHi = 0;
  const cacheKey = (lo: number, hi: number, state: number): number => {
    const l = (lo ^ Math.imul(state + 1, 0x9e3779b1)) >>> 0;
    return (hi & 0x1fffff) * 0x1_0000_0000 + l;
  };
  /** Adds the current set (frontier f) with `state`; false if it was already there. */
  const cacheAdd = (k: number, f: number, state: number): boolean => {
    const code = encode(f);
    const bucket = cache.get(k);
    if (bucket !== undefined) {
      for (const c of bucket) if (c.state === state && sameCode(c.code, code)) return false;
      bucket.push({ code, state });
    } else {
      cache.set(k, [{ code, state }]);
    }
    cacheEntries++;
    // The code, plus about 96 bytes of object and typed-array headers per entry.
    cacheWords += code.length + 24;
    return true;
  };

  // Candidate order (any order is correct; this one saves backtracking): read-only ops first (a
  // read, or a cas [v, v]: the identity wherever it applies), then by deadline: an ok op's own
  // return, the op the walk would otherwise dead-end on. An open (info) op has no return; its
  // deadline is the first return, after its invoke, of an ok op that needs the value it writes
  // (a read of it, a cas from it), or never.
  const readOnly = new Uint8Array(n);
  const deadline = new Float64Array(n);
  const needsByValue = new Map<number, number[]>(); // value -> completeIndex of ok ops needing it, ascending
  for (let i = 0; i < n; i++) {
    readOnly[i] = fn[i] === F_READ || (fn[i] === F_CAS && arg1[i] === arg2[i]) ? 1 : 0;
    deadline[i] = open[i] === 0 ? (ops[i] as KvOperation).completeIndex : Number.POSITIVE_INFINITY;
    if (open[i] === 0 && fn[i] !== F_WRITE) {
      const v = arg1[i] as number;
      let list = needsByValue.get(v);
      if (list === undefined) {
        list = [];
        needsByValue.set(v, list);
      }
      list.push((ops[i] as KvOperation).completeIndex);
    }
  }
  for (const list of needsByValue.values()) list.sort((a, b) => a - b);
  for (let i = 0; i < n; i++) {
    if (open[i] === 0) continue;
    const list = needsByValue.get((fn[i] === F_WRITE ? arg1[i] : arg2[i]) as number);
    if (list === undefined) continue;
    const after = (ops[i] as KvOperation).invokeIndex;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as number) < after) lo = mid + 1;
      else hi = mid;
    }
    if (lo < list.length) deadline[i] = list[lo] as number;
  }
  const byPriority = (a: number, b: number): number =>
    (readOnly[b] as number) - (readOnly[a] as number) || (deadline[a] as number) - (deadline[b] as number) || a - b;
  /** The ops that may be linearized next: calls before the first return still in the list. */
  // Blind writes: ok writes of a value no operation needs. After one, nothing but a write can
  // follow (nobody can read or compare its value), and it can always be moved to just before
  // the first write placed after it became a candidate: the ops it moves past were all unplaced
  // when it became a candidate, so none returned before it was invoked, and the write it lands
  // before overwrites its value. So the search never places a blind write on its own, except
  // when its return is the first in the list (it must go now); every write placed takes all
  // blind candidates with it, just before it. This removes the 2^k orders of k concurrent blind
  // writes that otherwise dominate hot-key histories.
  const blind = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (fn[i] === F_WRITE && open[i] === 0 && !needed.has(valueKey(ops[i]?.value as KvValue))) blind[i] = 1;
  }
  let blocker = -1;
  let blindCands: Int32Array = new Int32Array(0);
  /** The ops that may be linearized next: calls before the first return still in the list. */
  const candidates = (): Int32Array => {
    const out: number[] = [];
    const blindOut: number[] = [];
    let e = next[HEAD] as number;
    while (e >= 0 && (e & 1) === 0) {
      const i = e >> 1;
      if (blind[i] === 1) blindOut.push(i);
      else out.push(i);
      e = next[e] as number;
    }
    blocker = e >= 0 ? e >> 1 : -1;
    if (blocker >= 0 && blind[blocker] === 1) out.push(blocker);
    out.sort(byPriority);
    blindCands = Int32Array.from(blindOut);
    return Int32Array.from(out);
  };

  let remainingOk = opsOk;
  let state = initial;
  const stackOp: number[] = [];
  const stackGroup: (Int32Array | null)[] = [];
  const stackState: number[] = [];
  const stackCands: Int32Array[] = [];
  const stackBlind: Int32Array[] = [];
  const stackIdx: number[] = [];
  let steps = 0;
  let budgetHit = false;

  const setBit = (i: number): void => {
    bits[i >>> 5] = (bits[i >>> 5] as number) | (1 << (i & 31));
    hashLo ^= zobristLo[i] as number;
    hashHi ^= zobristHi[i] as number;
  };
  const clearBit = (i: number): void => {
    bits[i >>> 5] = (bits[i >>> 5] as number) & ~(1 << (i & 31));
    hashLo ^= zobristLo[i] as number;
    hashHi ^= zobristHi[i] as number;
  };

  /**
   * Tries `cands` from index `from` in the current configuration (`blindAt`: its blind
   * candidates); on success the op (with its group of blind writes) is placed and pushed. A
   * legal read-only op that is already in the cache ends the attempt: placing it dominates every
   * other choice, and that configuration has been explored.
   */
  const tryFrom = (cands: Int32Array, blindAt: Int32Array, from: number): boolean => {
    for (let k = from; k < cands.length; k++) {
      if (++steps > stepsMax || cacheWords > cacheWordsMax) {
        budgetHit = true;
        return false;
      }
      const i = cands[k] as number;
      const s2 = step(state, i);
      if (s2 < 0) continue;
      const group = fn[i] === F_WRITE && blindAt.length > 0 ? blindAt.filter((g) => g !== i) : null;
      const savedLo = hashLo;
      const savedHi = hashHi;
      if (group !== null) for (const g of group) setBit(g);
      setBit(i);
      const f2 = isSet(frontier) ? nextFrontier(frontier) : frontier;
      if (!memoize || cacheAdd(cacheKey(hashLo, hashHi, s2), f2, s2)) {
        stackOp.push(i);
        stackGroup.push(group);
        stackState.push(state);
        stackCands.push(cands);
        stackBlind.push(blindAt);
        stackIdx.push(k);
        state = s2;
        frontier = f2;
        if (group !== null) {
          for (const g of group) {
            remainingOk--;
            lift(2 * g);
          }
        }
        if (open[i] === 0) remainingOk--;
        lift(2 * i);
        return true;
      }
      clearBit(i);
      if (group !== null) for (const g of group) clearBit(g);
      hashLo = savedLo;
      hashHi = savedHi;
      if (readOnly[i] === 1) return false;
    }
    return false;
  };

  let bestDepth = -1;
  let bestPrefix: number[] = [];
  let bestState = initial;
  let bestBlocked = -1;
  let bestBlockedIllegal = true;
  let outcome: KeyReport['outcome'] = 'linearizable';
  let detail = '';

  while (remainingOk > 0) {
    const cands = candidates();
    if (tryFrom(cands, blindCands, 0)) continue;
    if (budgetHit) break;
    // Dead end: no candidate can go next. Note the deepest one for the explanation.
    if (stackOp.length > bestDepth && blocker >= 0) {
      bestDepth = stackOp.length;
      bestPrefix = [];
      for (let d = 0; d < stackOp.length; d++) {
        const group = stackGroup[d];
        if (group) for (const g of group) bestPrefix.push(g);
        bestPrefix.push(stackOp[d] as number);
      }
      bestState = state;
      bestBlocked = blocker;
      bestBlockedIllegal = step(state, blocker) < 0;
    }
    // Backtrack to the latest choice that has an untried alternative. A read-only op was the
    // dominant choice where it was placed, so that configuration is dead too: keep popping.
    let resumed = false;
    while (stackOp.length > 0) {
      const j = stackOp.pop() as number;
      const group = stackGroup.pop() as Int32Array | null;
      state = stackState.pop() as number;
      const frameCands = stackCands.pop() as Int32Array;
      const frameBlind = stackBlind.pop() as Int32Array;
      const k = stackIdx.pop() as number;
      clearBit(j);
      if (open[j] === 0) {
        remainingOk++;
        if (j < frontier) frontier = j;
      }
      unlift(2 * j);
      if (group !== null) {
        for (let g = group.length - 1; g >= 0; g--) {
          const x = group[g] as number;
          clearBit(x);
          remainingOk++;
          if (x < frontier) frontier = x;
          unlift(2 * x);
        }
      }
      if (readOnly[j] === 1) continue;
      if (tryFrom(frameCands, frameBlind, k + 1)) {
        resumed = true;
        break;
      }
      if (budgetHit) break;
    }
    if (budgetHit) break;
    if (!resumed) {
      outcome = 'not-linearizable';
      break;
    }
  }
  if (budgetHit) {
    outcome = 'unknown';
    detail = steps > stepsMax ? `search exceeded ${stepsMax} steps on key ${JSON.stringify(key)}` : `memo cache exceeded ${cacheWordsMax} words on key ${JSON.stringify(key)}`;
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

/** A one-line verdict for scenario headlines: empty when linearizable, else why not (leading space). */
export function linearizabilityVerdict(result: LinearizabilityResult): string {
  switch (result.outcome) {
    case 'linearizable':
      return '';
    case 'not-linearizable':
      return ` NOT LINEARIZABLE on key ${result.failure.key}: ${result.failure.reason}`;
    case 'unknown':
      return ` linearizability unknown: ${result.detail}`;
  }
}
