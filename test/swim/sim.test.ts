import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lanConfig } from '../../src/membership/swim/config.ts';
import { runSwim } from '../../src/scenarios/swim-scenario.ts';
import type { FaultKind } from '../../src/sim/nemesis.ts';
import { SimFailure } from '../../src/sim/simulator.ts';

const ALL: FaultKind[] = ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'];

function opts(seed: number, extra: Partial<Parameters<typeof runSwim>[0]> = {}): Parameters<typeof runSwim>[0] {
  return { seed, nodes: 8, durationMs: 120_000, faults: ALL, ops: 0, params: {}, ...extra };
}

describe('SWIM in the simulator under the nemesis', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: every death is explained by a fault, views converge after heal, a real crash is detected within the bound`, () => {
      const r = runSwim(opts(seed));
      // The nemesis did disturb the run (otherwise the check is vacuous).
      assert.ok(r.nemesis.log.length > 3);
      assert.ok(r.events.some((e) => e.event.type === 'suspect'));
    });
  }

  it('plain SWIM (Lifeguard off) also passes the checks on two seeds', () => {
    for (const seed of [11, 12]) runSwim(opts(seed, { config: { ...lanConfig(), lifeguard: false } }));
  });

  it('is deterministic: the same seed gives the same trace', () => {
    const a = runSwim(opts(21, { durationMs: 30_000 }));
    const b = runSwim(opts(21, { durationMs: 30_000 }));
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
    assert.equal(a.events.length, b.events.length);
  });

  it('the checker flags a death that no tracked fault explains (slow links to one member)', () => {
    const config = { ...lanConfig(), lifeguard: false, suspicionMult: 1 };
    assert.throws(
      () =>
        runSwim(
          opts(31, {
            config,
            faults: ['duplicate'],
            setup: (sim) => {
              for (const id of sim.nodeIds()) if (id !== 'n2') sim.setLinkLatency(id, 'n2', { kind: 'fixed', ms: 3000 });
            },
          }),
        ),
      // The slow member is either the accused or the accuser (its acks arrive late).
      (err: unknown) => err instanceof SimFailure && /declared n\d+ dead/.test(err.message) && /chain \([^)]*\bn2\b/.test(err.message) && /seed: 31/.test(err.message),
    );
  });
});
