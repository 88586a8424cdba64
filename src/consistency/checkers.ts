/**
 * Checkers that sit outside the replicas and judge what they did:
 * - `checkCausalDelivery` verifies seed 04.6.3, o_i ≺ o_j ⇒ order(o_i) < order(o_j), over the
 *   per-member logs of broadcasts and deliveries. It does not trust the vector clocks the
 *   protocol put in its messages: it rebuilds happened-before from the logs alone (Lamport's
 *   relation: process order plus broadcast -> delivery), so a bug in the protocol's clocks cannot
 *   hide a violation. It also reports duplicate deliveries and deliveries of unknown messages.
 * - `checkConvergence` verifies that replicas of a CRDT hold equal states and values.
 * - `lwwMapLostUpdates` verifies that no acknowledged write was lost: every key holds the value of
 *   its winning (largest-stamped) write, and nothing else.
 * Leaves out: causal completeness in the liveness sense (that every message is eventually
 * delivered): compare the logs' delivered sets after the liveness phase for that.
 */
import type { NodeId } from '../core/ids.ts';
import { type LwwMap, lwwMapGet } from './crdt/lww-map.ts';
import type { CrdtType } from './crdt/types.ts';
import { compareHlcStamp, type HlcStamp } from './hlc.ts';

/** One event in a member's log: it broadcast message `id`, or it delivered message `id`. */
export type CausalLogEvent = { readonly kind: 'broadcast'; readonly id: string } | { readonly kind: 'deliver'; readonly id: string };

export interface CausalCheckResult {
  ok: boolean;
  violations: string[];
  /** Messages broadcast, and deliveries checked. */
  messages: number;
  deliveries: number;
}

interface BroadcastInfo {
  origin: NodeId;
  /** 1-based position among the origin's broadcasts. */
  index: number;
  /** past[k] = how many of k's broadcasts causally precede this one (computed). */
  past: Map<NodeId, number> | undefined;
}

export function checkCausalDelivery(logs: ReadonlyMap<NodeId, readonly CausalLogEvent[]>, violationsMax = 20): CausalCheckResult {
  const violations: string[] = [];
  const info = new Map<string, BroadcastInfo>();
  for (const [node, events] of logs) {
    let index = 0;
    for (const e of events) {
      if (e.kind !== 'broadcast') continue;
      if (info.has(e.id)) violations.push(`message ${e.id} broadcast twice (again by ${node})`);
      else info.set(e.id, { origin: node, index: ++index, past: undefined });
    }
  }
  // Rebuild happened-before: walk every member's log, a delivery waiting until its broadcast's
  // causal past is known. Each member keeps the causal past of its latest event.
  const cursor = new Map<NodeId, number>();
  const running = new Map<NodeId, Map<NodeId, number>>();
  for (const node of logs.keys()) {
    cursor.set(node, 0);
    running.set(node, new Map());
  }
  const join = (into: Map<NodeId, number>, from: ReadonlyMap<NodeId, number>) => {
    for (const [k, n] of from) if (n > (into.get(k) ?? 0)) into.set(k, n);
  };
  let deliveries = 0;
  let progress = true;
  while (progress) {
    progress = false;
    for (const [node, events] of logs) {
      let i = cursor.get(node) ?? 0;
      const cur = running.get(node) as Map<NodeId, number>;
      while (i < events.length) {
        const e = events[i] as CausalLogEvent;
        const b = info.get(e.id);
        if (b === undefined) {
          if (e.kind === 'deliver') violations.push(`${node} delivered ${e.id}, which nobody broadcast`);
          i++;
          continue;
        }
        if (e.kind === 'broadcast') {
          if (b.origin === node && b.past === undefined) b.past = new Map(cur);
          cur.set(node, Math.max(cur.get(node) ?? 0, b.index));
          i++;
          continue;
        }
        if (b.past === undefined) break; // its broadcast is not processed yet
        join(cur, b.past);
        if ((cur.get(b.origin) ?? 0) < b.index) cur.set(b.origin, b.index);
        i++;
      }
      if (i !== cursor.get(node)) progress = true;
      cursor.set(node, i);
    }
  }
  for (const [node, events] of logs) {
    if ((cursor.get(node) ?? 0) < events.length) violations.push(`${node}'s log could not be ordered (a delivery precedes its own cause)`);
  }
  // Check each member: before it delivers m, it must have delivered (or broadcast) every message
  // in m's causal past, and it must not deliver m twice.
  const byIndex = new Map<string, string>(); // origin#index -> id, for messages
  for (const [id, b] of info) byIndex.set(`${b.origin}#${b.index}`, id);
  for (const [node, events] of logs) {
    const have = new Map<NodeId, Set<number>>();
    const contiguous = new Map<NodeId, number>();
    const mark = (origin: NodeId, index: number) => {
      let s = have.get(origin);
      if (s === undefined) {
        s = new Set();
        have.set(origin, s);
      }
      s.add(index);
      let c = contiguous.get(origin) ?? 0;
      while (s.has(c + 1)) c++;
      contiguous.set(origin, c);
    };
    for (const e of events) {
      const b = info.get(e.id);
      if (b === undefined || b.past === undefined) continue;
      if (e.kind === 'deliver') {
        deliveries++;
        if (have.get(b.origin)?.has(b.index)) {
          violations.push(`${node} delivered ${e.id} twice`);
          continue;
        }
      }
      for (const [k, n] of b.past) {
        if ((contiguous.get(k) ?? 0) < n) {
          const missing = byIndex.get(`${k}#${(contiguous.get(k) ?? 0) + 1}`) ?? `${k}'s broadcast #${(contiguous.get(k) ?? 0) + 1}`;
          violations.push(`${node} ${e.kind === 'deliver' ? 'delivered' : 'broadcast'} ${e.id} before its causal predecessor ${missing} (o_i ≺ o_j but order(o_j) < order(o_i))`);
          break;
        }
      }
      if (b.origin === node ? e.kind === 'broadcast' : e.kind === 'deliver') mark(b.origin, b.index);
      else if (e.kind === 'deliver') violations.push(`${node} delivered its own message ${e.id} from the network`);
      if (violations.length >= violationsMax) break;
    }
    if (violations.length >= violationsMax) break;
  }
  return { ok: violations.length === 0, violations: violations.slice(0, violationsMax), messages: info.size, deliveries };
}

export interface ConvergenceResult<V> {
  ok: boolean;
  /** Replicas grouped by equal state: one group when converged. */
  groups: NodeId[][];
  values: V[];
}

export function checkConvergence<S, V>(type: CrdtType<S, V>, replicas: ReadonlyMap<NodeId, S>): ConvergenceResult<V> {
  const groups: { state: S; nodes: NodeId[] }[] = [];
  for (const [node, s] of replicas) {
    const g = groups.find((x) => type.equals(x.state, s));
    if (g) g.nodes.push(node);
    else groups.push({ state: s, nodes: [node] });
  }
  return { ok: groups.length <= 1, groups: groups.map((g) => g.nodes), values: groups.map((g) => type.value(g.state)) };
}

/** An acknowledged write to an LWW-Map, as the client saw it. `value` undefined = delete. */
export interface LwwWrite<V> {
  readonly key: string;
  readonly value: V | undefined;
  readonly stamp: HlcStamp;
}

/** Keys whose value in `state` is not the value of their winning write (lost or phantom updates). */
export function lwwMapLostUpdates<V>(writes: readonly LwwWrite<V>[], state: LwwMap<V>, equals: (a: V, b: V) => boolean = Object.is): string[] {
  const winner = new Map<string, LwwWrite<V>>();
  for (const w of writes) {
    const cur = winner.get(w.key);
    if (cur === undefined || compareHlcStamp(w.stamp, cur.stamp) > 0) winner.set(w.key, w);
  }
  const problems: string[] = [];
  for (const [key, w] of winner) {
    const got = lwwMapGet(state, key);
    const ok = w.value === undefined ? got === undefined : got !== undefined && equals(got, w.value);
    if (!ok) problems.push(`key ${key}: expected ${JSON.stringify(w.value ?? null)} (written by ${w.stamp.node}), found ${JSON.stringify(got ?? null)}`);
  }
  for (const key of Object.keys(state)) {
    if (!winner.has(key) && lwwMapGet(state, key) !== undefined) problems.push(`key ${key}: present but never written`);
  }
  return problems;
}
