/**
 * Property test over every picker (fast-check): for any sequence of adds, removes, health
 * changes, failures, clock advances and picks, a pick returns a current candidate, returns
 * nothing only when there is no candidate, and active counts never go negative.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Balancer } from '../../src/balancing/balancer.ts';
import { createPicker } from '../../src/balancing/create-picker.ts';
import { POLICIES } from '../../src/balancing/types.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { createRng } from '../../src/core/rng.ts';

type Op =
  | { t: 'add'; id: number; weight: number }
  | { t: 'remove'; id: number }
  | { t: 'health'; id: number; healthy: boolean }
  | { t: 'fail'; id: number }
  | { t: 'advance'; ms: number }
  | { t: 'pick'; key: number; finish: boolean; exclude: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('add' as const), id: fc.integer({ min: 0, max: 7 }), weight: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ t: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ t: fc.constant('health' as const), id: fc.integer({ min: 0, max: 7 }), healthy: fc.boolean() }),
  fc.record({ t: fc.constant('fail' as const), id: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ t: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ t: fc.constant('pick' as const), key: fc.integer({ min: 0, max: 50 }), finish: fc.boolean(), exclude: fc.boolean() }),
);

describe('balancer properties (every policy)', () => {
  for (const policy of POLICIES) {
    it(`${policy}: picks are always current candidates`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 0, max: 100 }), (ops, panic) => {
          const clock = new ManualClock(0);
          const b = new Balancer<number>([], {
            picker: createPicker(policy, { rng: createRng(5), clock }),
            clock,
            panicThresholdPercent: panic,
            outlier: { consecutiveFailuresMax: 2, baseEjectionMs: 1000, maxEjectionMs: 3000 },
            slowStart: { windowMs: 2000 },
          });
          for (const o of ops) {
            const id = 'id' in o ? `e${o.id}` : '';
            switch (o.t) {
              case 'add':
                if (b.get(id) === undefined) b.add({ id, weight: o.weight, data: o.id });
                break;
              case 'remove': {
                const e = b.get(id);
                if (e !== undefined && e.active === 0) b.remove(id);
                break;
              }
              case 'health':
                b.setHealthy(id, o.healthy);
                break;
              case 'fail': {
                const e = b.get(id);
                if (e !== undefined) {
                  b.begin(e);
                  b.end(e, 'failure', 1);
                }
                break;
              }
              case 'advance':
                clock.advance(o.ms);
                break;
              case 'pick': {
                const candidates = b.candidateList();
                const first = candidates[0];
                const exclude = o.exclude && first !== undefined ? new Set([first.slot]) : undefined;
                const e = b.pick(exclude === undefined ? { key: `k${o.key}` } : { key: `k${o.key}`, exclude });
                if (candidates.length === 0) {
                  assert.equal(e, undefined);
                  break;
                }
                assert.ok(e !== undefined, 'no pick although candidates exist');
                assert.ok(candidates.includes(e), `${e.id} is not a candidate`);
                if (exclude !== undefined && candidates.length > 1) assert.ok(!exclude.has(e.slot), 'excluded endpoint picked');
                assert.ok(e.effectiveWeight > 0 && e.effectiveWeight <= e.weight);
                b.begin(e);
                if (o.finish) b.end(e, 'success', 3);
                break;
              }
            }
            for (const e of b.endpoints()) assert.ok(e.active >= 0);
          }
        }),
        { numRuns: 60, seed: 42 },
      );
    });
  }
});
