import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeId } from '../../src/core/ids.ts';
import { Nemesis } from '../../src/sim/nemesis.ts';
import { runPhases } from '../../src/sim/run.ts';
import { SimFailure, Simulator, type SimulatorOptions } from '../../src/sim/simulator.ts';
import type { SimContext, SimNode } from '../../src/sim/types.ts';

type Msg = { type: 'ping'; n: number } | { type: 'pong'; n: number };

/** Records what it receives; answers pings; optionally pings a peer on a timer. */
class Echo implements SimNode<Msg> {
  ctx!: SimContext<Msg>;
  received: [NodeId, Msg, number][] = [];
  timerFires = 0;
  constructor(
    private readonly peer?: NodeId,
    private readonly everyMs = 10,
    private readonly count = 0,
  ) {}
  start(ctx: SimContext<Msg>): void {
    this.ctx = ctx;
    if (this.peer !== undefined) this.tick(1);
  }
  private tick(n: number): void {
    if (n > this.count) return;
    this.ctx.setTimer(this.everyMs, () => {
      this.timerFires++;
      this.ctx.send(this.peer as NodeId, { type: 'ping', n });
      this.tick(n + 1);
    });
  }
  onMessage(from: NodeId, msg: Msg): void {
    this.received.push([from, msg, this.ctx.now()]);
    if (msg.type === 'ping') this.ctx.send(from, { type: 'pong', n: msg.n });
  }
}

function pair(opts: Partial<SimulatorOptions> = {}, count = 20): Simulator<Msg> {
  const sim = new Simulator<Msg>({ seed: 1, ...opts });
  sim.addNode('a', () => new Echo('b', 10, count));
  sim.addNode('b', () => new Echo());
  return sim;
}

const echo = (sim: Simulator<Msg>, id: NodeId) => sim.node(id) as Echo;

describe('sim/determinism', () => {
  function chaoticRun(seed: number): string {
    const sim = new Simulator<Msg>({ seed, trace: 'full', network: { lossRate: 0.1, duplicateRate: 0.1, reorderRate: 0.2 } });
    for (const id of ['a', 'b', 'c', 'd', 'e']) sim.addNode(id, () => new Echo(id === 'e' ? 'a' : String.fromCharCode(id.charCodeAt(0) + 1), 7, 50));
    const nemesis = new Nemesis(sim, { faults: ['partition', 'clog', 'crash', 'pause', 'loss', 'duplicate', 'reorder'], meanIntervalMs: 30, durationMs: { min: 5, max: 60 } });
    runPhases({ sim, nemesis, safetyMs: 400, livenessMs: 1000, converged: () => sim.pending === 0 || sim.now() > 1200 });
    return sim.traceHash();
  }
  it('the same seed gives a bit-identical trace (hash of two runs)', () => {
    assert.equal(chaoticRun(42), chaoticRun(42));
  });
  it('different seeds give different traces', () => {
    assert.notEqual(chaoticRun(42), chaoticRun(43));
  });
  it('events at the same virtual time run in the order they were scheduled', () => {
    const sim = new Simulator<Msg>({ seed: 1 });
    const order: number[] = [];
    for (let i = 0; i < 10; i++) sim.schedule(5, () => order.push(i));
    sim.runFor(10);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('sim/network', () => {
  it('delivers with latency from the link distribution', () => {
    const sim = pair({ network: { latencyMs: { kind: 'fixed', ms: 3 } } }, 1);
    sim.runFor(100);
    const got = echo(sim, 'b').received;
    assert.equal(got.length, 1);
    assert.equal(got[0]?.[2], 13, 'timer at 10 ms + 3 ms latency');
    assert.equal(echo(sim, 'a').received[0]?.[2], 16);
  });
  it('per-link latency overrides the default, one direction only', () => {
    const sim = pair({ network: { latencyMs: { kind: 'fixed', ms: 3 } } }, 1);
    sim.setLinkLatency('a', 'b', { kind: 'fixed', ms: 50 });
    sim.runFor(100);
    assert.equal(echo(sim, 'b').received[0]?.[2], 60);
    assert.equal(echo(sim, 'a').received[0]?.[2], 63);
  });
  it('loses messages at the loss rate', () => {
    const sim = pair({ network: { lossRate: 0.5 } }, 400);
    sim.runFor(10_000);
    const got = echo(sim, 'b').received.length;
    assert.ok(got > 140 && got < 260, `about half of 400 delivered, got ${got}`);
    assert.equal(sim.stats.droppedLoss + sim.stats.messagesDelivered, sim.stats.messagesSent);
  });
  it('duplicates messages at the duplicate rate', () => {
    const sim = pair({ network: { duplicateRate: 0.3 } }, 400);
    sim.runFor(10_000);
    const got = echo(sim, 'b').received.length;
    assert.ok(got > 480 && got < 560, `about 400 * 1.3 delivered, got ${got}`);
    assert.ok(sim.stats.duplicated > 0);
  });
  it('reorders messages when asked, and never with fifo links', () => {
    const inversions = (sim: Simulator<Msg>) => {
      const ns = echo(sim, 'b').received.map(([, m]) => m.n);
      let inv = 0;
      for (let i = 1; i < ns.length; i++) if ((ns[i] ?? 0) < (ns[i - 1] ?? 0)) inv++;
      return inv;
    };
    const loose = pair({ network: { reorderRate: 0.3, reorderDelayMaxMs: 100 } }, 200);
    loose.runFor(10_000);
    assert.ok(inversions(loose) > 10, `expected reordering, got ${inversions(loose)} inversions`);
    const fifo = pair({ network: { reorderRate: 0.3, fifo: true, latencyMs: { min: 1, max: 30 } } }, 200);
    fifo.runFor(10_000);
    assert.equal(inversions(fifo), 0);
  });
  it('a group partition drops messages both ways until healed', () => {
    const sim = pair({}, 100);
    sim.partition([['a'], ['b']]);
    sim.runFor(500);
    assert.equal(echo(sim, 'b').received.length, 0);
    assert.ok(sim.stats.droppedPartition > 0);
    sim.heal();
    sim.runFor(1000);
    assert.ok(echo(sim, 'b').received.length > 0);
    assert.ok(echo(sim, 'a').received.length > 0);
  });
  it('a one-way block drops only that direction', () => {
    const sim = pair({}, 10);
    sim.blockLink('b', 'a');
    sim.runFor(1000);
    assert.equal(echo(sim, 'b').received.length, 10, 'pings get through');
    assert.equal(echo(sim, 'a').received.length, 0, 'pongs do not');
  });
  it('clogging holds messages and delivers them after unclog', () => {
    const sim = pair({}, 10);
    sim.clog('b');
    sim.runFor(1000);
    assert.equal(echo(sim, 'b').received.length, 0);
    sim.unclog('b');
    sim.runFor(100);
    assert.equal(echo(sim, 'b').received.length, 10, 'nothing lost, only delayed');
    assert.ok((echo(sim, 'b').received[0]?.[2] ?? 0) >= 1000);
  });
});

describe('sim/lifecycle', () => {
  it('a crash loses volatile state and timers; restart boots a fresh instance', () => {
    const sim = pair({}, 100);
    sim.runFor(105);
    const before = echo(sim, 'a');
    assert.ok(before.timerFires >= 9);
    sim.crash('a');
    assert.equal(sim.node('a'), undefined);
    assert.equal(sim.isUp('a'), false);
    const firesAtCrash = before.timerFires;
    sim.runFor(200);
    assert.equal(before.timerFires, firesAtCrash, 'timers of a crashed node never fire');
    sim.restart('a');
    const after = echo(sim, 'a');
    assert.notEqual(after, before);
    assert.equal(after.received.length, 0, 'volatile state is gone');
    sim.runFor(50);
    assert.ok(after.timerFires > 0);
  });
  it('messages to a crashed node are dropped', () => {
    const sim = pair({}, 10);
    sim.crash('b');
    sim.runFor(500);
    assert.ok(sim.stats.droppedDown >= 10);
  });
  it('pause defers messages and timers until resume (a starved process)', () => {
    const sim = pair({ network: { latencyMs: { kind: 'fixed', ms: 1 } } }, 10);
    sim.pause('a');
    sim.runFor(500);
    assert.equal(echo(sim, 'a').timerFires, 0);
    sim.resume('a');
    sim.runFor(1);
    assert.equal(echo(sim, 'a').timerFires, 1, 'the overdue timer fires at resume');
    sim.runFor(500);
    assert.equal(echo(sim, 'b').received.length, 10);
  });
});

describe('sim/invariants and phases', () => {
  it('an invariant violation throws SimFailure with the seed and the replay command', () => {
    const sim = new Simulator<Msg>({ seed: 77, replayCommand: 'clusterkit sim demo --seed 77' });
    sim.addNode('a', () => new Echo('b', 10, 5));
    sim.addNode('b', () => new Echo());
    sim.addInvariant('b receives fewer than 3 pings', () => (echo(sim, 'b').received.length >= 3 ? 'b got 3 pings' : undefined));
    assert.throws(
      () => sim.runFor(1000),
      (e: unknown) => e instanceof SimFailure && e.seed === 77 && /seed: 77/.test(e.message) && /replay: clusterkit sim demo --seed 77/.test(e.message),
    );
  });
  it('the liveness phase fails when the system does not converge in time', () => {
    const sim = pair({ seed: 5 }, 1);
    assert.throws(
      () => runPhases({ sim, safetyMs: 10, livenessMs: 100, converged: () => false, convergedDescription: 'never' }),
      (e: unknown) => e instanceof SimFailure && /liveness/.test(e.message) && /never/.test(e.message),
    );
  });
  it('the nemesis heals everything at the end of the safety phase', () => {
    const sim = new Simulator<Msg>({ seed: 9 });
    for (const id of ['a', 'b', 'c']) sim.addNode(id, () => new Echo());
    const nemesis = new Nemesis(sim, { faults: ['partition', 'clog', 'crash', 'pause', 'loss'], meanIntervalMs: 5, durationMs: { min: 1000, max: 2000 } });
    nemesis.start();
    sim.runFor(200);
    assert.ok(nemesis.log.length > 10);
    nemesis.stop();
    nemesis.healAll();
    for (const id of ['a', 'b', 'c']) {
      assert.ok(sim.isUp(id) && !sim.isPaused(id) && !sim.isClogged(id), `${id} healthy`);
      for (const other of ['a', 'b', 'c']) assert.equal(sim.isBlocked(id, other), false);
    }
    assert.equal(sim.network.lossRate, 0);
  });
});

describe('sim/trace', () => {
  it('keeps the most recent lines, oldest first, for failure reports', () => {
    const sim = new Simulator<Msg>({ seed: 1, traceTailMax: 3 });
    for (let i = 0; i < 10; i++) sim.trace(`line ${i}`);
    assert.deepEqual(
      sim.recentTrace().map((l) => l.split(' ').slice(1).join(' ')),
      ['line 7', 'line 8', 'line 9'],
    );
  });
});
