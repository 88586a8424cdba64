import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng, type Rng } from '../../src/core/rng.ts';
import { checkLinearizable, type LinearizabilityResult } from '../../src/sim/checkers/linearizability.ts';
import { type KvOperation, pairOperations } from '../../src/sim/checkers/operations.ts';
import { corruptRead, generateRegisterHistory } from '../../src/sim/checkers/register-workload.ts';
import type { EventType, HistoryEvent, KvValue, OpFunction } from '../../src/sim/history.ts';

// A knossos-style history DSL: one row per event, time = row index.
type Row = [process: number, type: EventType, f: OpFunction, value: KvValue | [KvValue, KvValue], key?: string];
function h(...rows: Row[]): HistoryEvent[] {
  return rows.map(([process, type, f, value, key], i) => ({ process, type, f, key: key ?? 'x', value, time: i }));
}
const inv = (p: number, f: OpFunction, value: KvValue | [KvValue, KvValue] = null, key?: string): Row => (key === undefined ? [p, 'invoke', f, value] : [p, 'invoke', f, value, key]);
const ok = (p: number, f: OpFunction, value: KvValue | [KvValue, KvValue] = null, key?: string): Row => (key === undefined ? [p, 'ok', f, value] : [p, 'ok', f, value, key]);
const fail = (p: number, f: OpFunction, value: KvValue | [KvValue, KvValue] = null): Row => [p, 'fail', f, value];
const info = (p: number, f: OpFunction, value: KvValue | [KvValue, KvValue] = null): Row => [p, 'info', f, value];

function outcome(r: LinearizabilityResult): string {
  return r.outcome;
}

describe('linearizability: sequential histories (a single process is its own linearization)', () => {
  it('accepts the empty history', () => {
    assert.equal(outcome(checkLinearizable([])), 'linearizable');
  });
  it('accepts a write then a read of that value', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'read'), ok(0, 'read', 1)))), 'linearizable');
  });
  it('reads null from an absent key, and rejects a value nobody wrote', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'read'), ok(0, 'read', null)))), 'linearizable');
    assert.equal(outcome(checkLinearizable(h(inv(0, 'read'), ok(0, 'read', 1)))), 'not-linearizable');
  });
  it('distinguishes 1 from "1"', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'read'), ok(0, 'read', '1')))), 'not-linearizable');
  });
  it('honours an initial value option', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'read'), ok(0, 'read', 0)), { initialValue: 0 })), 'linearizable');
  });
});

describe('linearizability: concurrent overlap', () => {
  it('a read concurrent with a write may see the old or the new value', () => {
    for (const seen of [null, 1]) {
      const r = checkLinearizable(h(inv(0, 'write', 1), inv(1, 'read'), ok(1, 'read', seen), ok(0, 'write', 1)));
      assert.equal(r.outcome, 'linearizable', `read saw ${seen}`);
    }
  });
  it('rejects a stale read after a completed write (real-time order)', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'write', 2), ok(0, 'write', 2), inv(1, 'read'), ok(1, 'read', 1)));
    assert.equal(r.outcome, 'not-linearizable');
    if (r.outcome !== 'not-linearizable') return;
    // Minimal explanation: both writes linearize, then the read of 1 cannot be placed.
    assert.equal(r.failure.key, 'x');
    assert.deepEqual(
      r.failure.prefix.map((op) => [op.f, op.value]),
      [
        ['write', 1],
        ['write', 2],
      ],
    );
    assert.equal(r.failure.stateAfterPrefix, 2);
    assert.equal(r.failure.unplaceable.f, 'read');
    assert.equal(r.failure.unplaceable.value, 1);
    assert.match(r.failure.reason, /returned 1, but after the prefix the register held 2/);
  });
  it('rejects a value flipping back: two sequential reads see 2 then 1 while only write 2 overlaps', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'write', 2), inv(1, 'read'), ok(1, 'read', 2), inv(1, 'read'), ok(1, 'read', 1), ok(0, 'write', 2)));
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('accepts sequential reads of 1 then 2 while write 2 overlaps both', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'write', 2), inv(1, 'read'), ok(1, 'read', 1), inv(1, 'read'), ok(1, 'read', 2), ok(0, 'write', 2)));
    assert.equal(r.outcome, 'linearizable');
  });
  it('rejects two readers that see two concurrent writes in opposite orders', () => {
    // Writes 1 and 2 overlap everything; p2 reads 1 then 2, p3 reads 2 then 1.
    const r = checkLinearizable(
      h(
        inv(0, 'write', 1),
        inv(1, 'write', 2),
        inv(2, 'read'),
        inv(3, 'read'),
        ok(2, 'read', 1),
        ok(3, 'read', 2),
        inv(2, 'read'),
        inv(3, 'read'),
        ok(2, 'read', 2),
        ok(3, 'read', 1),
        ok(0, 'write', 1),
        ok(1, 'write', 2),
      ),
    );
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('accepts two readers that see two concurrent writes in the same order', () => {
    const r = checkLinearizable(
      h(
        inv(0, 'write', 1),
        inv(1, 'write', 2),
        inv(2, 'read'),
        inv(3, 'read'),
        ok(2, 'read', 1),
        ok(3, 'read', 1),
        inv(2, 'read'),
        inv(3, 'read'),
        ok(2, 'read', 2),
        ok(3, 'read', 2),
        ok(0, 'write', 1),
        ok(1, 'write', 2),
      ),
    );
    assert.equal(r.outcome, 'linearizable');
  });
  it('needs backtracking: the first-tried order of two concurrent writes is the wrong one', () => {
    // w1 and w2 concurrent; a later read sees 1, so w2 must be linearized before w1.
    const r = checkLinearizable(h(inv(0, 'write', 1), inv(1, 'write', 2), ok(0, 'write', 1), ok(1, 'write', 2), inv(2, 'read'), ok(2, 'read', 1)));
    assert.equal(r.outcome, 'linearizable');
  });
});

describe('linearizability: cas', () => {
  it('a cas [null, 1] succeeds on an absent key; a later read sees 1', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'cas', [null, 1]), ok(0, 'cas', [null, 1]), inv(0, 'read'), ok(0, 'read', 1)))), 'linearizable');
  });
  it('rejects a successful cas whose from value the register never held', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'cas', [0, 5]), ok(0, 'cas', [0, 5])));
    assert.equal(r.outcome, 'not-linearizable');
    if (r.outcome === 'not-linearizable') assert.match(r.failure.reason, /succeeded, so the register held 0/);
  });
  it('drops a failed cas: it never happened', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'cas', [null, 5]), fail(0, 'cas', [null, 5]), inv(0, 'read'), ok(0, 'read', null)))), 'linearizable');
  });
  it('rejects a read of the old value after a cas completed', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), ok(0, 'write', 1), inv(0, 'cas', [1, 2]), ok(0, 'cas', [1, 2]), inv(1, 'read'), ok(1, 'read', 1)));
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('two concurrent cas from the same value cannot both succeed', () => {
    const r = checkLinearizable(h(inv(0, 'write', 0), ok(0, 'write', 0), inv(1, 'cas', [0, 1]), inv(2, 'cas', [0, 2]), ok(1, 'cas', [0, 1]), ok(2, 'cas', [0, 2])));
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('a cas chain orders concurrent operations', () => {
    const r = checkLinearizable(h(inv(1, 'cas', [1, 2]), inv(2, 'cas', [null, 1]), inv(3, 'cas', [2, 3]), ok(3, 'cas', [2, 3]), ok(1, 'cas', [1, 2]), ok(2, 'cas', [null, 1]), inv(0, 'read'), ok(0, 'read', 3)));
    assert.equal(r.outcome, 'linearizable');
  });
});

describe('linearizability: info (indeterminate) and fail', () => {
  it('an info write may show up later, long after its info completion', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'read'), ok(1, 'read', null), inv(1, 'read'), ok(1, 'read', null), inv(1, 'read'), ok(1, 'read', 1)));
    assert.equal(r.outcome, 'linearizable');
  });
  it('an info write may never show up', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'read'), ok(1, 'read', null)))), 'linearizable');
  });
  it('an info write cannot take effect before its invoke', () => {
    const r = checkLinearizable(h(inv(1, 'read'), ok(1, 'read', 1), inv(0, 'write', 1), info(0, 'write', 1)));
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('an info write takes effect once: seen, then gone, then seen again is not linearizable', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), info(0, 'write', 1), inv(1, 'read'), ok(1, 'read', 1), inv(1, 'read'), ok(1, 'read', null)));
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('an invoke without completion (pending at the end) behaves like info', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'write', 1), inv(1, 'read'), ok(1, 'read', 1)))), 'linearizable');
    const ops = pairOperations(h(inv(0, 'write', 1)));
    assert.equal(ops[0]?.status, 'pending');
  });
  it('an info cas may have applied or not', () => {
    const base: Row[] = [inv(0, 'write', 1), ok(0, 'write', 1), inv(1, 'cas', [1, 2]), info(1, 'cas', [1, 2]), inv(2, 'read')];
    assert.equal(outcome(checkLinearizable(h(...base, ok(2, 'read', 2)))), 'linearizable');
    assert.equal(outcome(checkLinearizable(h(...base, ok(2, 'read', 1)))), 'linearizable');
    assert.equal(outcome(checkLinearizable(h(...base, ok(2, 'read', 3)))), 'not-linearizable');
  });
  it('an info read constrains nothing; a failed write never happened', () => {
    assert.equal(outcome(checkLinearizable(h(inv(0, 'read'), info(0, 'read', null), inv(1, 'read'), ok(1, 'read', null)))), 'linearizable');
    assert.equal(outcome(checkLinearizable(h(inv(0, 'write', 1), fail(0, 'write', 1), inv(1, 'read'), ok(1, 'read', 1)))), 'not-linearizable');
  });
  it('drops an info write whose value nobody reads, keeps one whose value is read (and the cas chain feeding it)', () => {
    const r = checkLinearizable(
      h(inv(0, 'write', 7), info(0, 'write', 7), inv(1, 'write', 1), info(1, 'write', 1), inv(2, 'cas', [1, 2]), info(2, 'cas', [1, 2]), inv(3, 'read'), ok(3, 'read', 2)),
    );
    assert.equal(r.outcome, 'linearizable');
    assert.deepEqual([r.keys[0]?.opsChecked, r.keys[0]?.opsDropped], [3, 1]);
  });
  it('a process may invoke again after an info; its info op stays open', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1), info(0, 'write', 1), inv(0, 'write', 2), ok(0, 'write', 2), inv(1, 'read'), ok(1, 'read', 1)));
    assert.equal(r.outcome, 'linearizable');
  });
});

describe('linearizability: per-key (P-compositionality) and reports', () => {
  it('checks keys independently and names the failing key', () => {
    const r = checkLinearizable(
      h(inv(0, 'write', 1, 'a'), ok(0, 'write', 1, 'a'), inv(1, 'write', 1, 'b'), ok(1, 'write', 1, 'b'), inv(0, 'read', null, 'a'), ok(0, 'read', 1, 'a'), inv(1, 'read', null, 'b'), ok(1, 'read', 7, 'b')),
    );
    assert.equal(r.outcome, 'not-linearizable');
    if (r.outcome !== 'not-linearizable') return;
    assert.equal(r.failure.key, 'b');
    assert.deepEqual(
      r.keys.map((k) => [k.key, k.outcome]),
      [
        ['a', 'linearizable'],
        ['b', 'not-linearizable'],
      ],
    );
  });
  it('a value written on one key does not satisfy a read on another', () => {
    const r = checkLinearizable(h(inv(0, 'write', 1, 'a'), ok(0, 'write', 1, 'a'), inv(0, 'read', null, 'b'), ok(0, 'read', 1, 'b')));
    assert.equal(r.outcome, 'not-linearizable');
  });
  it('stops at the first failing key unless asked to check all', () => {
    const bad = h(inv(0, 'read', null, 'a'), ok(0, 'read', 1, 'a'), inv(0, 'read', null, 'b'), ok(0, 'read', 1, 'b'));
    const first = checkLinearizable(bad);
    assert.deepEqual(
      first.keys.map((k) => k.outcome),
      ['not-linearizable', 'skipped'],
    );
    const all = checkLinearizable(bad, { stopAtFirstFailure: false });
    assert.equal(all.outcome, 'not-linearizable');
    if (all.outcome === 'not-linearizable') assert.deepEqual(
      all.failures.map((f) => f.key),
      ['a', 'b'],
    );
  });
  it('reports unknown when the step budget runs out', () => {
    const hist = generateRegisterHistory({ seed: 5, opsCount: 200, keysCount: 1, clientsCount: 5 });
    const r = checkLinearizable(hist, { stepsMaxPerKey: 10 });
    assert.equal(r.outcome, 'unknown');
    if (r.outcome === 'unknown') assert.deepEqual(r.unknownKeys, ['k0']);
  });
});

// A brute-force reference: try every order of the operations that respects real time, leaving
// out any subset of indeterminate ones. Only for tiny histories.
function bruteForce(ops: readonly KvOperation[]): boolean {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of ops) {
    if (op.status === 'fail' || (op.f === 'read' && op.status !== 'ok')) continue;
    byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  }
  for (const list of byKey.values()) if (!bruteKey(list)) return false;
  return true;
}
function bruteKey(ops: readonly KvOperation[]): boolean {
  const done = new Set<number>();
  const okLeft = () => ops.some((o) => o.status === 'ok' && !done.has(o.id));
  const search = (state: KvValue): boolean => {
    if (!okLeft()) return true;
    for (const o of ops) {
      if (done.has(o.id)) continue;
      // o may go next only if no other unplaced ok op completed before o was invoked.
      const blocked = ops.some((p) => p !== o && !done.has(p.id) && p.status === 'ok' && p.completeIndex < o.invokeIndex);
      if (blocked) continue;
      let next: KvValue | undefined;
      if (o.f === 'read') next = o.value === state ? state : undefined;
      else if (o.f === 'write') next = o.value as KvValue;
      else {
        const [from, to] = o.value as readonly [KvValue, KvValue];
        next = from === state ? to : undefined;
      }
      if (next === undefined) continue;
      done.add(o.id);
      const found = search(next);
      done.delete(o.id);
      if (found) return true;
    }
    return false;
  };
  return search(null);
}

function randomSmallHistory(rng: Rng): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const inFlight = new Map<number, HistoryEvent>();
  const values: KvValue[] = [null, 1, 2];
  const opsMax = rng.range(2, 8);
  let started = 0;
  let t = 0;
  while (started < opsMax || inFlight.size > 0) {
    const p = rng.int(3);
    const cur = inFlight.get(p);
    if (cur === undefined) {
      if (started >= opsMax) continue;
      const f = rng.pick<OpFunction>(['read', 'write', 'write', 'cas']);
      const value: KvValue | [KvValue, KvValue] = f === 'read' ? null : f === 'write' ? rng.pick([1, 2]) : [rng.pick(values), rng.pick([1, 2])];
      const e: HistoryEvent = { process: p, type: 'invoke', f, key: rng.chance(0.8) ? 'x' : 'y', value, time: t++ };
      events.push(e);
      inFlight.set(p, e);
      started++;
    } else {
      const type = rng.pick<EventType>(['ok', 'ok', 'ok', 'ok', 'info', 'fail']);
      const value = cur.f === 'read' ? (type === 'ok' ? rng.pick(values) : null) : cur.value;
      events.push({ process: p, type, f: cur.f, key: cur.key, value, time: t++ });
      inFlight.delete(p);
    }
  }
  return events;
}

describe('linearizability: agrees with a brute-force search on small random histories', () => {
  it('same verdict on 3000 random histories, with and without the memo cache', () => {
    const rng = createRng(2024);
    let yes = 0;
    let no = 0;
    for (let n = 0; n < 3000; n++) {
      const hist = randomSmallHistory(rng);
      const expected = bruteForce(pairOperations(hist));
      const got = checkLinearizable(hist, { stopAtFirstFailure: false });
      const gotNoMemo = checkLinearizable(hist, { memoize: false });
      assert.equal(got.outcome, expected ? 'linearizable' : 'not-linearizable', JSON.stringify(hist));
      assert.equal(gotNoMemo.outcome, got.outcome, JSON.stringify(hist));
      if (expected) yes++;
      else no++;
    }
    // Both verdicts must be well represented, or the comparison proves little.
    assert.ok(yes > 300 && no > 300, `yes=${yes} no=${no}`);
  });
});

describe('linearizability: generated histories from a correct register', () => {
  it('checks a 10,000-operation, 5-key, 10-client history as linearizable', () => {
    const hist = generateRegisterHistory({ seed: 11, opsCount: 10_000, keysCount: 5, clientsCount: 10 });
    assert.equal(hist.length, 20_000);
    const r = checkLinearizable(hist);
    assert.equal(r.outcome, 'linearizable');
    assert.equal(r.keys.length, 5);
    // The history really overlaps: some operation is invoked while another on its key is open.
    const ops = pairOperations(hist);
    const overlapping = ops.some((a) => ops.some((b) => a !== b && a.key === b.key && b.invokeIndex > a.invokeIndex && b.invokeIndex < a.completeIndex));
    assert.ok(overlapping);
  });
  it('finds the one corrupted read in a 10,000-operation history', () => {
    const hist = generateRegisterHistory({ seed: 12, opsCount: 10_000, keysCount: 5, clientsCount: 10 });
    const bad = corruptRead(hist, 3);
    assert.ok(bad !== null);
    const r = checkLinearizable(bad);
    assert.equal(r.outcome, 'not-linearizable');
    if (r.outcome === 'not-linearizable') {
      assert.equal(r.failure.unplaceable.f, 'read');
      assert.equal(r.failure.unplaceable.value, -1);
    }
  });
  it('handles a single hot key: 3,000 operations from 10 clients, and 800 with 10% info outcomes', () => {
    assert.equal(checkLinearizable(generateRegisterHistory({ seed: 31, opsCount: 3_000, keysCount: 1, clientsCount: 10 })).outcome, 'linearizable');
    const infoHeavy = generateRegisterHistory({ seed: 32, opsCount: 800, keysCount: 1, clientsCount: 4, infoProbability: 0.1 });
    assert.equal(checkLinearizable(infoHeavy).outcome, 'linearizable');
    const bad = corruptRead(infoHeavy, 2);
    assert.ok(bad !== null);
    assert.equal(checkLinearizable(bad).outcome, 'not-linearizable');
  });
  it('checks a 30-client hot key within a modest step budget (deterministic step counts)', () => {
    const hist = generateRegisterHistory({ seed: 7, opsCount: 1_000, keysCount: 1, clientsCount: 30 });
    const r = checkLinearizable(hist, { stepsMaxPerKey: 300_000 });
    assert.equal(r.outcome, 'linearizable');
  });
  it('accepts histories with info writes and cas and a small value domain', () => {
    for (const seed of [21, 22, 23]) {
      const hist = generateRegisterHistory({ seed, opsCount: 2_000, keysCount: 3, clientsCount: 8, infoProbability: 0.02, valuesMax: 3 });
      assert.equal(hist.filter((e) => e.type === 'info').length > 0, true);
      assert.equal(checkLinearizable(hist).outcome, 'linearizable', `seed ${seed}`);
    }
  });
});
