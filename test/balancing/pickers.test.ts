/**
 * One conformance suite run against every picker (each skip states its reason), plus the seed
 * 04.7.4 formulas: RR order (i mod n) + 1, WRR shares W_j / ΣW, LC = argmin C_j.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer, type EndpointSpec } from '../../src/balancing/balancer.ts';
import { createPicker } from '../../src/balancing/create-picker.ts';
import { EdfScheduler } from '../../src/balancing/edf-scheduler.ts';
import { VirtualNodeRing } from '../../src/balancing/key-ring.ts';
import { POLICIES, type Policy } from '../../src/balancing/types.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { createRng } from '../../src/core/rng.ts';

function specs(n: number, weights?: readonly number[]): EndpointSpec<number>[] {
  return Array.from({ length: n }, (_, i) => ({ id: `e${i + 1}`, weight: weights?.[i] ?? 1, data: i + 1 }));
}

function make(policy: Policy, endpoints: EndpointSpec<number>[], seed = 1, clock = new ManualClock(0)) {
  const picker = createPicker(policy, { rng: createRng(seed), clock });
  return { clock, balancer: new Balancer(endpoints, { picker, clock, outlier: false }) };
}

/** Picks `count` times, each with a fresh key, finishing each request immediately. */
function shares(b: Balancer<number>, count: number, clock: ManualClock): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const e = b.pick({ key: `user-${i}` });
    assert.ok(e !== undefined);
    m.set(e.id, (m.get(e.id) ?? 0) + 1);
    b.begin(e);
    clock.advance(1);
    b.end(e, 'success', 5);
  }
  return m;
}

/** Which conformance checks do not apply to which policy, and why. */
const SKIP: Partial<Record<string, Partial<Record<Policy, string>>>> = {
  weights: {
    'round-robin': 'plain round robin ignores weights by definition (seed L_RR)',
    'least-connections': 'with sequential requests every endpoint has 0 active; the weight only divides load',
    'peak-ewma': 'Finagle peak-EWMA ignores weights; it balances on latency x load',
  },
  avoidsBusy: {
    'round-robin': 'not load-aware',
    'weighted-round-robin': 'not load-aware',
    edf: 'not load-aware',
    random: 'not load-aware',
    'consistent-hash': 'key-sticky, not load-aware',
  },
};

function skipReason(check: string, policy: Policy): string | undefined {
  return SKIP[check]?.[policy];
}

for (const policy of POLICIES) {
  describe(`picker conformance: ${policy}`, () => {
    it('only ever picks candidates: unhealthy endpoints are skipped', () => {
      const { balancer, clock } = make(policy, specs(4));
      balancer.setHealthy('e2', false);
      const m = shares(balancer, 400, clock);
      assert.equal(m.get('e2'), undefined);
      assert.equal([...m.values()].reduce((a, b) => a + b, 0), 400);
    });

    it('spreads equal endpoints roughly evenly (each within 35% of n-th share)', () => {
      const { balancer, clock } = make(policy, specs(4));
      const m = shares(balancer, 4000, clock);
      for (const id of ['e1', 'e2', 'e3', 'e4']) {
        const c = m.get(id) ?? 0;
        assert.ok(Math.abs(c - 1000) < 350, `${id} got ${c} of 4000`);
      }
    });

    const wr = skipReason('weights', policy);
    it('gives weighted endpoints shares near W_j / ΣW', { skip: wr ?? false }, () => {
      const weights = [5, 1, 1, 3];
      const { balancer, clock } = make(policy, specs(4, weights));
      const total = 10_000;
      const m = shares(balancer, total, clock);
      weights.forEach((w, i) => {
        const expected = (total * w) / 10;
        const got = m.get(`e${i + 1}`) ?? 0;
        assert.ok(Math.abs(got - expected) < 0.15 * expected + 50, `e${i + 1}: expected ~${expected}, got ${got}`);
      });
    });

    const br = skipReason('avoidsBusy', policy);
    it('avoids an endpoint with many active requests', { skip: br ?? false }, () => {
      const { balancer, clock } = make(policy, specs(3));
      // Teach latency-aware pickers that all endpoints are equally fast.
      for (const e of balancer.endpoints()) {
        balancer.begin(e);
        balancer.end(e, 'success', 10);
      }
      const busy = balancer.get('e1');
      assert.ok(busy !== undefined);
      for (let i = 0; i < 50; i++) balancer.begin(busy);
      let hits = 0;
      for (let i = 0; i < 300; i++) {
        const e = balancer.pick();
        assert.ok(e !== undefined);
        if (e === busy) hits++;
        clock.advance(1);
      }
      assert.ok(hits < 30, `busy endpoint picked ${hits} of 300 times`);
    });

    it('is deterministic for a seed', () => {
      const run = () => {
        const { balancer, clock } = make(policy, specs(5, [1, 2, 3, 1, 1]), 99);
        return [...shares(balancer, 300, clock).entries()].sort().join(',');
      };
      assert.equal(run(), run());
    });

    it('returns undefined with no endpoints, and picks endpoints added later', () => {
      const { balancer, clock } = make(policy, []);
      assert.equal(balancer.pick(), undefined);
      balancer.add({ id: 'late', data: 9 });
      assert.equal(balancer.pick({ key: 'k' })?.id, 'late');
      balancer.add({ id: 'later', data: 10 });
      const m = shares(balancer, 400, clock);
      assert.ok((m.get('later') ?? 0) > 0, 'new endpoint never picked');
    });

    it('never picks a removed endpoint', () => {
      const { balancer, clock } = make(policy, specs(3));
      shares(balancer, 30, clock);
      balancer.remove('e3');
      const m = shares(balancer, 300, clock);
      assert.equal(m.get('e3'), undefined);
    });

    it('honours exclude (retries go elsewhere) while another candidate exists', () => {
      const { balancer } = make(policy, specs(3));
      const e1 = balancer.get('e1');
      assert.ok(e1 !== undefined);
      for (let i = 0; i < 100; i++) {
        const e = balancer.pick({ key: `k${i}`, exclude: new Set([e1.slot]) });
        assert.notEqual(e?.id, 'e1');
      }
      const only = make(policy, specs(1)).balancer;
      const sole = only.get('e1');
      assert.ok(sole !== undefined);
      assert.equal(only.pick({ exclude: new Set([sole.slot]) }), sole, 'falls back to the excluded one when alone');
    });
  });
}

describe('seed 04.7.4 formulas', () => {
  it('round robin: request i goes to endpoint (i mod n) + 1', () => {
    const n = 5;
    const { balancer } = make('round-robin', specs(n));
    for (let i = 0; i < 3 * n + 2; i++) {
      assert.equal(balancer.pick()?.data, (i % n) + 1, `request ${i}`);
    }
  });

  it('smooth weighted round robin: over each cycle of ΣW picks endpoint j gets exactly W_j (share W_j / ΣW)', () => {
    const weights = [5, 1, 1];
    const { balancer } = make('weighted-round-robin', specs(3, weights));
    const seq: string[] = [];
    for (let i = 0; i < 7; i++) seq.push(balancer.pick()?.id ?? '');
    // nginx's documented smooth sequence for weights 5,1,1.
    assert.deepEqual(seq, ['e1', 'e1', 'e2', 'e1', 'e3', 'e1', 'e1']);
    const w2 = [4, 3, 2, 1];
    const b2 = make('weighted-round-robin', specs(4, w2)).balancer;
    for (let cycle = 0; cycle < 5; cycle++) {
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < 10; i++) {
        const d = b2.pick()?.data ?? 0;
        counts[d - 1] = (counts[d - 1] ?? 0) + 1;
      }
      assert.deepEqual(counts, w2);
    }
  });

  it('EDF: over each cycle of ΣW picks endpoint j gets exactly W_j', () => {
    const w = [3, 1, 2];
    const { balancer } = make('edf', specs(3, w));
    for (let cycle = 0; cycle < 5; cycle++) {
      const counts = [0, 0, 0];
      for (let i = 0; i < 6; i++) {
        const d = balancer.pick()?.data ?? 0;
        counts[d - 1] = (counts[d - 1] ?? 0) + 1;
      }
      assert.deepEqual(counts, w);
    }
  });

  it('least connections: picks argmin C_j', () => {
    const { balancer } = make('least-connections', specs(4));
    const active = [3, 1, 4, 2];
    balancer.endpoints().forEach((e, i) => {
      for (let k = 0; k < (active[i] ?? 0); k++) balancer.begin(e);
    });
    for (let i = 0; i < 10; i++) assert.equal(balancer.pick()?.id, 'e2');
    // Each pick that is begun raises C_j; every pick is an argmin of the counts before it.
    for (let i = 0; i < 12; i++) {
      const min = Math.min(...balancer.endpoints().map((x) => x.active));
      const e = balancer.pick();
      assert.ok(e !== undefined);
      assert.equal(e.active, min, `pick ${i} chose C=${e.active}, min was ${min}`);
      balancer.begin(e);
    }
  });
});

describe('p2c with unequal weights (Envoy active-request bias)', () => {
  it('shifts load away from a heavy endpoint in proportion to weight / (active + 1)', () => {
    const { balancer } = make('p2c', specs(2, [2, 1]));
    const heavy = balancer.get('e1');
    assert.ok(heavy !== undefined);
    // e1 has weight 2 but 3 requests in flight: dynamic weight 2/4 = 0.5 < e2's 1/1.
    for (let i = 0; i < 3; i++) balancer.begin(heavy);
    // Requeue with dynamic weights: run a few picks, counting.
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const e = balancer.pick();
      assert.ok(e !== undefined);
      counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    }
    assert.ok((counts.get('e2') ?? 0) > (counts.get('e1') ?? 0), `counts ${[...counts]}`);
  });
});

describe('consistent hash by key', () => {
  it('is sticky: the same key goes to the same endpoint', () => {
    const { balancer } = make('consistent-hash', specs(5));
    for (let i = 0; i < 50; i++) {
      const first = balancer.pick({ key: `user-${i}` })?.id;
      for (let k = 0; k < 3; k++) assert.equal(balancer.pick({ key: `user-${i}` })?.id, first);
    }
  });

  it('moves only the keys of an unhealthy endpoint, and they return when it recovers', () => {
    const { balancer } = make('consistent-hash', specs(5));
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const before = keys.map((k) => balancer.pick({ key: k })?.id);
    balancer.setHealthy('e3', false);
    const during = keys.map((k) => balancer.pick({ key: k })?.id);
    keys.forEach((_, i) => {
      if (before[i] !== 'e3') assert.equal(during[i], before[i], 'a key not on e3 moved');
      else assert.notEqual(during[i], 'e3');
    });
    balancer.setHealthy('e3', true);
    assert.deepEqual(
      keys.map((k) => balancer.pick({ key: k })?.id),
      before,
    );
  });

  it('adding an endpoint moves about 1/(n+1) of keys', () => {
    const { balancer } = make('consistent-hash', specs(4));
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
    const before = keys.map((k) => balancer.pick({ key: k })?.id);
    balancer.add({ id: 'e5', data: 5 });
    const after = keys.map((k) => balancer.pick({ key: k })?.id);
    const moved = after.filter((id, i) => id !== before[i]);
    assert.ok(moved.every((id) => id === 'e5'), 'keys only move to the new endpoint');
    assert.ok(Math.abs(moved.length / keys.length - 0.2) < 0.06, `moved ${moved.length / keys.length}`);
  });

  it('VirtualNodeRing.lookup walks clockwise past rejected slots and gives undefined when all are rejected', () => {
    const ring = new VirtualNodeRing([
      { id: 'a', slot: 0, weight: 1 },
      { id: 'b', slot: 1, weight: 1 },
    ]);
    assert.equal(ring.size, 320);
    assert.equal(ring.lookup(123, (s) => s === 1), 1);
    assert.equal(ring.lookup(123, () => false), undefined);
  });
});

describe('peak EWMA (Finagle)', () => {
  it('prefers the faster endpoint, peaks on a slow sample and decays with time', () => {
    const clock = new ManualClock(0);
    const { balancer } = make('peak-ewma', specs(2), 3, clock);
    const [fast, slow] = balancer.endpoints();
    assert.ok(fast !== undefined && slow !== undefined);
    const picker = balancer.picker as import('../../src/balancing/peak-ewma.ts').PeakEwmaPicker;
    balancer.begin(fast);
    balancer.end(fast, 'success', 10);
    balancer.begin(slow);
    balancer.end(slow, 'success', 200);
    let slowHits = 0;
    for (let i = 0; i < 200; i++) if (balancer.pick() === slow) slowHits++;
    assert.equal(slowHits, 0, 'with 2 endpoints p2c compares both: the faster always wins');
    // A slow sample raises the estimate at once (peak), a fast one lowers it gradually.
    balancer.begin(fast);
    balancer.end(fast, 'success', 500);
    assert.equal(picker.costMs(fast.slot), 500);
    clock.advance(10_000);
    balancer.begin(fast);
    balancer.end(fast, 'success', 10);
    const c = picker.costMs(fast.slot);
    // After one decay time constant: 500·e^-1 + 10·(1 - e^-1).
    assert.ok(Math.abs(c - (500 * Math.exp(-1) + 10 * (1 - Math.exp(-1)))) < 1e-9, `cost ${c}`);
  });
});

describe('EdfScheduler', () => {
  it('breaks ties by insertion order and keeps shares exact', () => {
    const s = new EdfScheduler();
    s.add(0, 1);
    s.add(1, 1);
    const seq = Array.from({ length: 6 }, () => s.pickAndAdd(() => 1));
    assert.deepEqual(seq, [0, 1, 0, 1, 0, 1]);
  });
});
