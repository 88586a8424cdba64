import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLinearizable } from '../../src/sim/checkers/linearizability.ts';
import { ALL_FAULTS } from '../../src/sim/nemesis.ts';
import type { HistoryEvent } from '../../src/sim/history.ts';
import { encodeRecord, scanLog } from '../../src/scenarios/register.ts';
import { runRegister } from '../../src/scenarios/register-scenario.ts';
import type { ScenarioOptions } from '../../src/scenarios/types.ts';

const opts = (seed: number, extra: Partial<ScenarioOptions> = {}): ScenarioOptions => ({
  seed,
  nodes: 3,
  durationMs: 1500,
  ops: 150,
  faults: ALL_FAULTS,
  params: {},
  ...extra,
});

/** Every invoke has exactly one completion, after it, on the same process; processes are sequential. */
function assertWellFormed(history: readonly HistoryEvent[]): void {
  const open = new Map<number, HistoryEvent>();
  let lastTime = 0;
  for (const e of history) {
    assert.ok(e.time >= lastTime, 'events are in time order');
    lastTime = e.time;
    if (e.type === 'invoke') {
      assert.equal(open.has(e.process), false, `process ${e.process} invoked twice without completing`);
      open.set(e.process, e);
    } else {
      const inv = open.get(e.process);
      assert.ok(inv !== undefined, `completion without invoke on process ${e.process}`);
      assert.equal(inv.f, e.f);
      assert.equal(inv.key, e.key);
      open.delete(e.process);
    }
  }
}

describe('sim/register: the tiny protocol under the nemesis', () => {
  it('log records round-trip and a torn or corrupt tail is cut at the last valid record', () => {
    const a = encodeRecord({ client: 'c1', id: 1, key: 'k', value: 1 });
    const b = encodeRecord({ client: 'c1', id: 2, key: 'k', value: 2 });
    const log = new Uint8Array([...a, ...b]);
    assert.equal(scanLog(log).records.length, 2);
    assert.equal(scanLog(log.subarray(0, log.length - 3)).validBytes, a.length);
    const flipped = log.slice();
    flipped[a.length + 10] = (flipped[a.length + 10] ?? 0) ^ 1;
    assert.deepEqual(scanLog(flipped).records.map((r) => r.value), [1]);
  });

  it('converges after every fault and its history is well-formed and linearizable (40 seeds)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const run = runRegister(opts(seed));
      assert.ok(run.workload.finished, `seed ${seed}: workload finished`);
      const history = run.workload.history();
      assert.equal(history.length, 2 * 150, `seed ${seed}: every op invoked and completed`);
      assertWellFormed(history);
      const c = run.workload.counts();
      assert.ok(c.ok > 0, `seed ${seed}: some ops succeed`);
      const check = checkLinearizable(history);
      assert.equal(check.outcome, 'linearizable', `seed ${seed}: ${JSON.stringify(check.outcome === 'not-linearizable' ? check.failure : check)}`);
    }
  });

  it('crashes happen, torn tails are recovered', () => {
    let crashes = 0;
    let truncated = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const run = runRegister(opts(seed));
      crashes += run.sim.stats.crashes;
      truncated += run.server()?.stats.truncatedBytes ?? 0;
    }
    assert.ok(crashes > 20, `crashes: ${crashes}`);
    assert.ok(truncated > 0, 'at least one run recovered from a torn or corrupt tail');
  });

  it('is deterministic: same seed, same trace and history', () => {
    const a = runRegister(opts(11));
    const b = runRegister(opts(11));
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
    assert.deepEqual(a.workload.history(), b.workload.history());
  });

  it('the unsafe variant (reply before fsync) loses acknowledged writes in crashes, and the checker sees it', () => {
    let violations = 0;
    const failing: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const run = runRegister(opts(seed, { faults: ['crash'], params: { unsafe: 'true' } }));
      if (checkLinearizable(run.workload.history()).outcome === 'not-linearizable') {
        violations++;
        failing.push(seed);
      }
    }
    assert.ok(violations >= 3, `expected lost acknowledged writes in several seeds, got ${violations}`);
    // And the safe server under the very same seeds and faults is linearizable.
    for (const seed of failing) {
      const safe = runRegister(opts(seed, { faults: ['crash'] }));
      assert.equal(checkLinearizable(safe.workload.history()).outcome, 'linearizable', `seed ${seed}`);
    }
  });
});
