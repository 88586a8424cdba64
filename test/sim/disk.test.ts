import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { SimDiskImpl } from '../../src/sim/disk.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import type { SimContext, SimNode } from '../../src/sim/types.ts';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const cfg = { fsyncLatencyMs: { min: 1, max: 1 }, tornWrites: false, corruptTailRate: 0 };

describe('sim/disk fsync semantics', () => {
  it('synced data survives every crash', () => {
    for (let seed = 0; seed < 50; seed++) {
      const d = new SimDiskImpl(cfg);
      d.append('f', bytes(1, 2, 3));
      d.fsync('f');
      d.append('f', bytes(4, 5));
      d.crash(createRng(seed));
      const got = [...(d.read('f') ?? [])];
      assert.deepEqual(got.slice(0, 3), [1, 2, 3], `seed ${seed}`);
      assert.ok(got.length === 3 || got.length === 5, `whole appends only without torn writes (seed ${seed}: ${got})`);
    }
  });
  it('unsynced writes may vanish at a crash, and sometimes do', () => {
    let lost = 0;
    let kept = 0;
    for (let seed = 0; seed < 100; seed++) {
      const d = new SimDiskImpl(cfg);
      d.append('f', bytes(9));
      d.crash(createRng(seed));
      if (d.read('f') === undefined) lost++;
      else kept++;
    }
    assert.ok(lost > 20 && kept > 20, `lost ${lost}, kept ${kept}`);
  });
  it('a surviving unsynced suffix is always a prefix of the writes, in order', () => {
    for (let seed = 0; seed < 100; seed++) {
      const d = new SimDiskImpl(cfg);
      for (let i = 1; i <= 5; i++) d.append('f', bytes(i));
      d.crash(createRng(seed));
      const got = [...(d.read('f') ?? [])];
      assert.deepEqual(got, [1, 2, 3, 4, 5].slice(0, got.length));
    }
  });
  it('torn writes leave a partial record at the tail', () => {
    let torn = 0;
    for (let seed = 0; seed < 200; seed++) {
      const d = new SimDiskImpl({ ...cfg, tornWrites: true });
      d.append('f', bytes(1, 1, 1, 1));
      d.fsync('f');
      d.append('f', bytes(2, 2, 2, 2, 2, 2, 2, 2));
      const [report] = d.crash(createRng(seed));
      const len = d.read('f')?.length ?? 0;
      if (len > 4 && len < 12) {
        torn++;
        assert.equal(report?.tornBytes, len - 4);
      }
    }
    assert.ok(torn > 20, `torn tails seen: ${torn}`);
  });
  it('tail corruption flips a byte only in unsynced data', () => {
    let corrupted = 0;
    for (let seed = 0; seed < 100; seed++) {
      const d = new SimDiskImpl({ ...cfg, corruptTailRate: 1 });
      d.append('f', bytes(0, 0, 0, 0));
      d.fsync('f');
      d.append('f', bytes(0, 0, 0, 0));
      d.crash(createRng(seed));
      const got = d.read('f') ?? new Uint8Array(0);
      assert.deepEqual([...got.subarray(0, 4)], [0, 0, 0, 0], 'synced prefix untouched');
      if (got.some((b) => b !== 0)) corrupted++;
    }
    assert.ok(corrupted > 20);
  });
  it('replacing a file is atomic: old or new content after a crash', () => {
    for (let seed = 0; seed < 50; seed++) {
      const d = new SimDiskImpl({ ...cfg, tornWrites: true });
      d.write('meta', bytes(1, 1));
      d.fsync('meta');
      d.write('meta', bytes(2, 2, 2));
      d.crash(createRng(seed));
      const got = [...(d.read('meta') ?? [])];
      assert.ok(JSON.stringify(got) === '[1,1]' || JSON.stringify(got) === '[2,2,2]', `seed ${seed}: ${got}`);
    }
  });
  it('an unsynced delete may be undone by a crash', () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const d = new SimDiskImpl(cfg);
      d.write('x', bytes(7));
      d.fsync('x');
      d.delete('x');
      assert.equal(d.read('x'), undefined);
      d.crash(createRng(seed));
      outcomes.add(d.read('x') === undefined ? 'gone' : 'back');
    }
    assert.deepEqual([...outcomes].sort(), ['back', 'gone']);
  });
  it('corrupt() flips a durable bit (for corruption-detection tests)', () => {
    const d = new SimDiskImpl(cfg);
    d.append('f', bytes(0, 0));
    d.fsync('f');
    d.corrupt('f', 1, 3);
    assert.deepEqual([...(d.read('f') ?? [])], [0, 8]);
  });
});

describe('sim/disk async fsync in the simulator', () => {
  class Writer implements SimNode<never> {
    synced = false;
    start(ctx: SimContext<never>): void {
      if (ctx.disk.read('log') !== undefined) return;
      ctx.disk.append('log', bytes(1));
      ctx.disk.fsyncAllAsync(() => {
        this.synced = true;
      });
      ctx.disk.append('log', bytes(2)); // issued after the fsync: not covered by it
    }
    onMessage(): void {}
  }
  it('completes after the fsync latency and covers only earlier writes', () => {
    const sim = new Simulator<never>({ seed: 3, disk: { fsyncLatencyMs: { min: 5, max: 5 }, tornWrites: false, corruptTailRate: 0 } });
    sim.addNode('w', () => new Writer());
    const w = sim.node('w') as Writer;
    sim.runFor(4);
    assert.equal(w.synced, false);
    sim.runFor(2);
    assert.equal(w.synced, true);
    assert.deepEqual([...(sim.disk('w').readDurable('log') ?? [])], [1]);
  });
  it('a crash before the fsync completes cancels its callback', () => {
    const sim = new Simulator<never>({ seed: 3, disk: { fsyncLatencyMs: { min: 5, max: 5 }, tornWrites: false, corruptTailRate: 0 } });
    sim.addNode('w', () => new Writer());
    const w = sim.node('w') as Writer;
    sim.runFor(2);
    sim.crash('w');
    sim.runFor(10);
    assert.equal(w.synced, false);
  });
});
