/**
 * Health awareness of the Balancer: panic threshold, passive outlier detection (consecutive
 * failures → ejection for base · timesEjected, capped; max ejection percent), slow start;
 * active health-check thresholds; the retry budget. All on a ManualClock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer, type BalancerEvent, type EndpointSpec } from '../../src/balancing/balancer.ts';
import { createPicker } from '../../src/balancing/create-picker.ts';
import { HealthTracker } from '../../src/balancing/health.ts';
import { RetryBudget } from '../../src/balancing/retry-budget.ts';
import { slowStartFactor } from '../../src/balancing/slow-start.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import type { OutlierOptions } from '../../src/balancing/outlier.ts';
import type { SlowStartOptions } from '../../src/balancing/slow-start.ts';

function specs(n: number): EndpointSpec<null>[] {
  return Array.from({ length: n }, (_, i) => ({ id: `e${i + 1}`, data: null }));
}

function setup(
  n: number,
  opts: { panic?: number; outlier?: OutlierOptions | false; slowStart?: SlowStartOptions; policy?: 'round-robin' | 'edf' } = {},
) {
  const clock = new ManualClock(0);
  const events: BalancerEvent[] = [];
  const balancer = new Balancer(specs(n), {
    picker: createPicker(opts.policy ?? 'round-robin', { rng: createRng(1), clock }),
    clock,
    ...(opts.panic === undefined ? {} : { panicThresholdPercent: opts.panic }),
    outlier: opts.outlier ?? { consecutiveFailuresMax: 3, baseEjectionMs: 1000, maxEjectionMs: 2500, maxEjectionPercent: 50 },
    ...(opts.slowStart === undefined ? {} : { slowStart: opts.slowStart }),
    onEvent: (e) => events.push(e),
  });
  const fail = (id: string, times: number) => {
    const e = balancer.get(id);
    assert.ok(e !== undefined);
    for (let i = 0; i < times; i++) {
      balancer.begin(e);
      balancer.end(e, 'failure', 1);
    }
  };
  const ids = () => balancer.candidateList().map((e) => e.id);
  return { clock, balancer, events, fail, ids };
}

describe('panic threshold', () => {
  it('uses only healthy endpoints at or above 50% healthy, all endpoints below it', () => {
    const { balancer, ids, events } = setup(4, { outlier: false });
    balancer.setHealthy('e1', false);
    assert.deepEqual(ids(), ['e2', 'e3', 'e4']);
    balancer.setHealthy('e2', false);
    assert.deepEqual(ids(), ['e3', 'e4'], 'exactly 50% healthy is not panic');
    assert.equal(balancer.panic, false);
    balancer.setHealthy('e3', false);
    assert.equal(balancer.panic, true);
    assert.deepEqual(ids(), ['e1', 'e2', 'e3', 'e4'], 'below 50%: all endpoints');
    balancer.setHealthy('e3', true);
    assert.equal(balancer.panic, false);
    assert.deepEqual(
      events.filter((e) => e.type === 'panic'),
      [
        { type: 'panic', panic: true },
        { type: 'panic', panic: false },
      ],
    );
  });

  it('with the threshold at 0, no healthy endpoint means no pick', () => {
    const { balancer } = setup(2, { panic: 0, outlier: false });
    balancer.setHealthy('e1', false);
    balancer.setHealthy('e2', false);
    assert.equal(balancer.pick(), undefined);
  });

  it('rejects thresholds outside 0..100', () => {
    const clock = new ManualClock();
    assert.throws(
      () => new Balancer([], { picker: createPicker('random', { rng: createRng(1), clock }), clock, panicThresholdPercent: 150 }),
      ConfigError,
    );
  });
});

describe('passive outlier detection', () => {
  it('ejects after consecutiveFailuresMax failures in a row; a success resets the count', () => {
    const { balancer, fail, ids } = setup(4);
    fail('e1', 2);
    const e1 = balancer.get('e1');
    assert.ok(e1 !== undefined);
    balancer.begin(e1);
    balancer.end(e1, 'success', 1);
    fail('e1', 2);
    assert.ok(ids().includes('e1'), 'not ejected: failures were not consecutive');
    fail('e1', 1);
    assert.ok(!ids().includes('e1'), 'ejected after 3 in a row');
  });

  it('ejection lasts base · timesEjected, capped at maxEjectionMs, and the endpoint returns by itself', () => {
    const { clock, balancer, fail, ids, events } = setup(4);
    const durations: number[] = [];
    for (let round = 0; round < 4; round++) {
      fail('e1', 3);
      const ev = events.at(-1);
      assert.ok(ev?.type === 'ejected');
      durations.push(ev.durationMs);
      clock.advance(ev.durationMs - 1);
      assert.ok(!ids().includes('e1'), 'still ejected 1 ms before the end');
      clock.advance(1);
      assert.ok(ids().includes('e1'), 'back when the ejection time is up');
      assert.deepEqual(events.at(-1), { type: 'unejected', id: 'e1' });
    }
    assert.deepEqual(durations, [1000, 2000, 2500, 2500]);
    void balancer;
  });

  it('timesEjected decays by one per base ejection time spent healthy', () => {
    const { clock, fail, events } = setup(4);
    fail('e1', 3);
    clock.advance(1000);
    fail('e1', 3);
    assert.equal((events.at(-1) as { durationMs: number }).durationMs, 2000);
    clock.advance(2000);
    clock.advance(2000); // two base periods healthy: multiplier 2 → 0, next ejection is the first again
    fail('e1', 3);
    assert.equal((events.at(-1) as { durationMs: number }).durationMs, 1000);
  });

  it('never ejects more than maxEjectionPercent of endpoints (at least one)', () => {
    const { fail, ids } = setup(4);
    fail('e1', 3);
    fail('e2', 3);
    fail('e3', 3);
    assert.deepEqual(ids(), ['e3', 'e4'], '50% of 4 = 2 ejected at most');
    const small = setup(3, { outlier: { consecutiveFailuresMax: 1, maxEjectionPercent: 10 } });
    small.fail('e1', 1);
    small.fail('e2', 1);
    assert.deepEqual(small.ids(), ['e2', 'e3'], '10% of 3 rounds to 0, but one may always be ejected');
  });

  it('rejects bad outlier options with a ConfigError naming the field', () => {
    assert.throws(() => setup(2, { outlier: { consecutiveFailuresMax: 0 } }), /consecutiveFailuresMax/);
    assert.throws(() => setup(2, { outlier: { baseEjectionMs: 100, maxEjectionMs: 10 } }), /maxEjectionMs/);
  });
});

describe('slow start', () => {
  it('factor ramps linearly from the minimum to 1 over the window (aggression 1)', () => {
    const o = { windowMs: 1000, aggression: 1, minWeightPercent: 10 };
    assert.equal(slowStartFactor(0, o), 0.1);
    assert.equal(slowStartFactor(500, o), 0.5);
    assert.equal(slowStartFactor(1000, o), 1);
    const fast = { ...o, aggression: 2 };
    assert.ok(Math.abs(slowStartFactor(250, fast) - 0.5) < 1e-12, 'aggression 2: sqrt ramp');
  });

  it('a new endpoint gets a growing share of picks until the window ends', () => {
    const { clock, balancer } = setup(2, { policy: 'edf', slowStart: { windowMs: 10_000 } });
    const added = balancer.add({ id: 'new', data: null });
    assert.equal(added.effectiveWeight, 0.1);
    const shareOfNew = () => {
      let hits = 0;
      for (let i = 0; i < 2000; i++) if (balancer.pick() === added) hits++;
      return hits / 2000;
    };
    const early = shareOfNew();
    assert.ok(Math.abs(early - 0.1 / 2.1) < 0.02, `early share ${early}`);
    clock.advance(5000);
    const mid = shareOfNew();
    assert.ok(Math.abs(mid - 0.5 / 2.5) < 0.02, `mid share ${mid}`);
    clock.advance(5000);
    assert.equal(added.effectiveWeight, 0.5, 'weights are recomputed lazily at the next pick');
    const late = shareOfNew();
    assert.equal(added.effectiveWeight, 1);
    assert.ok(Math.abs(late - 1 / 3) < 0.02, `late share ${late}`);
  });

  it('initial endpoints do not slow-start; an endpoint recovering from failed health checks does', () => {
    const { balancer } = setup(2, { slowStart: { windowMs: 1000 } });
    assert.ok(balancer.endpoints().every((e) => e.effectiveWeight === 1));
    balancer.setHealthy('e1', false);
    balancer.setHealthy('e1', true);
    assert.equal(balancer.get('e1')?.effectiveWeight, 0.1);
  });
});

describe('active health thresholds', () => {
  it('first check decides; then unhealthyThreshold failures / healthyThreshold passes in a row', () => {
    const t = new HealthTracker({ healthyThreshold: 2, unhealthyThreshold: 3 });
    assert.equal(t.record(false), true, 'unreachable at start: out after one probe');
    assert.equal(t.healthy, false);
    assert.equal(t.record(true), false);
    assert.equal(t.record(false), false, 'streak broken');
    assert.equal(t.record(true), false);
    assert.equal(t.record(true), true);
    assert.equal(t.healthy, true);
    assert.equal(t.record(false), false);
    assert.equal(t.record(false), false);
    assert.equal(t.record(false), true);
    assert.equal(t.healthy, false);
  });
});

describe('retry budget (Finagle)', () => {
  it('allows minRetriesPerSec · ttl plus percentCanRetry of requests in the window', () => {
    const clock = new ManualClock(0);
    const b = new RetryBudget(clock, { percentCanRetry: 0.2, minRetriesPerSec: 1, ttlMs: 10_000 });
    assert.equal(b.balance(), 10);
    for (let i = 0; i < 100; i++) b.deposit();
    assert.equal(b.balance(), 30);
    let granted = 0;
    while (b.tryWithdraw()) granted++;
    assert.equal(granted, 30);
    assert.equal(b.tryWithdraw(), false);
    clock.advance(10_000);
    assert.equal(b.balance(), 10, 'old requests and retries leave the window');
  });
});
