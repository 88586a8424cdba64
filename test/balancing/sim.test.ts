/**
 * Client-side balancing inside the deterministic simulator (the "simulated" leg next to the
 * real loopback tests): a client node balances requests over three backend nodes with the same
 * `Balancer`, retry budget and outlier detection the real client uses, on virtual time. A backend
 * crashes mid-run: requests are retried elsewhere (none fail beyond the budget), the backend is
 * ejected, and after it restarts and the ejection expires it serves again. Same seed, same trace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer, type BalancedEndpoint } from '../../src/balancing/balancer.ts';
import { createPicker } from '../../src/balancing/create-picker.ts';
import { RetryBudget } from '../../src/balancing/retry-budget.ts';
import type { Policy } from '../../src/balancing/types.ts';
import type { TimerHandle } from '../../src/core/clock.ts';
import { Simulator } from '../../src/sim/simulator.ts';
import type { SimContext, SimNode } from '../../src/sim/types.ts';

type Msg = { type: 'req'; id: number } | { type: 'res'; id: number };

const BACKENDS = ['b1', 'b2', 'b3'];
const PER_TRY_TIMEOUT_MS = 50;
const ATTEMPTS_MAX = 3;

class Backend implements SimNode<Msg> {
  ctx: SimContext<Msg> | undefined;
  served = 0;
  start(ctx: SimContext<Msg>): void {
    this.ctx = ctx;
  }
  onMessage(from: string, msg: Msg): void {
    const ctx = this.ctx;
    if (msg.type !== 'req' || ctx === undefined) return;
    this.served++;
    ctx.setTimer(ctx.rng.exponential(5), () => ctx.send(from, { type: 'res', id: msg.id }));
  }
}

interface Pending {
  tries: number;
  tried: Set<number>;
  ep: BalancedEndpoint<string>;
  timer: TimerHandle;
  startMs: number;
}

class Client implements SimNode<Msg> {
  ctx: SimContext<Msg> | undefined;
  balancer: Balancer<string> | undefined;
  budget: RetryBudget | undefined;
  readonly pending = new Map<number, Pending>();
  nextId = 1;
  issued = 0;
  ok = 0;
  failed = 0;
  retries = 0;
  budgetRefused = 0;
  ejections: string[] = [];
  constructor(
    readonly policy: Policy,
    readonly total: number,
    readonly intervalMs: number,
  ) {}

  start(ctx: SimContext<Msg>): void {
    this.ctx = ctx;
    const clock = { now: () => ctx.now() };
    this.balancer = new Balancer(
      BACKENDS.map((id) => ({ id, data: id })),
      {
        picker: createPicker(this.policy, { rng: ctx.rng.fork('picker'), clock }),
        clock,
        outlier: { consecutiveFailuresMax: 3, baseEjectionMs: 1000, maxEjectionMs: 4000 },
        onEvent: (e) => {
          if (e.type === 'ejected') this.ejections.push(e.id);
          ctx.trace(`balancer ${JSON.stringify(e)}`);
        },
      },
    );
    this.budget = new RetryBudget(clock, { percentCanRetry: 0.2, minRetriesPerSec: 3 });
    this.tick();
  }

  private tick(): void {
    const ctx = this.ctx as SimContext<Msg>;
    if (this.issued >= this.total) return;
    this.issued++;
    this.budget?.deposit();
    this.send(this.nextId++, 0, new Set());
    ctx.setTimer(this.intervalMs, () => this.tick());
  }

  private send(id: number, tries: number, tried: Set<number>): void {
    const ctx = this.ctx as SimContext<Msg>;
    const b = this.balancer as Balancer<string>;
    const ep = b.pick(tried.size === 0 ? {} : { exclude: tried });
    if (ep === undefined) {
      this.failed++;
      return;
    }
    b.begin(ep);
    const timer = ctx.setTimer(PER_TRY_TIMEOUT_MS, () => this.timeout(id));
    this.pending.set(id, { tries: tries + 1, tried, ep, timer, startMs: ctx.now() });
    ctx.send(ep.data, { type: 'req', id });
  }

  private timeout(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    const b = this.balancer as Balancer<string>;
    b.end(p.ep, 'failure', PER_TRY_TIMEOUT_MS);
    p.tried.add(p.ep.slot);
    if (p.tries >= ATTEMPTS_MAX) {
      this.failed++;
      return;
    }
    if (!(this.budget as RetryBudget).tryWithdraw()) {
      this.budgetRefused++;
      this.failed++;
      return;
    }
    this.retries++;
    this.send(id, p.tries, p.tried);
  }

  onMessage(_from: string, msg: Msg): void {
    if (msg.type !== 'res') return;
    const p = this.pending.get(msg.id);
    if (p === undefined) return; // a late answer to a try that already timed out
    this.pending.delete(msg.id);
    const ctx = this.ctx as SimContext<Msg>;
    ctx.clearTimer(p.timer);
    (this.balancer as Balancer<string>).end(p.ep, 'success', ctx.now() - p.startMs);
    this.ok++;
  }
}

function run(seed: number, policy: Policy) {
  const sim = new Simulator<Msg>({ seed, network: { latencyMs: { min: 1, max: 4 }, lossRate: 0.002 } });
  const backends = new Map<string, Backend>();
  for (const id of BACKENDS) {
    sim.addNode(id, () => {
      const b = new Backend();
      backends.set(id, b);
      return b;
    });
  }
  const client = new Client(policy, 2000, 2);
  sim.addNode('c1', () => client);
  sim.schedule(1000, () => sim.crash('b2'));
  sim.schedule(2000, () => sim.restart('b2'));
  sim.runFor(1000);
  const servedBeforeCrash = backends.get('b2')?.served ?? 0;
  sim.runFor(1000);
  sim.runFor(3000);
  return { sim, client, servedBeforeCrash, servedAfterRestart: backends.get('b2')?.served ?? 0 };
}

describe('balancing in the simulator', () => {
  for (const policy of ['p2c', 'round-robin', 'peak-ewma'] as const) {
    it(`${policy}: a backend crash costs no request beyond the retry budget; the backend is ejected and returns`, () => {
      const { client, servedBeforeCrash, servedAfterRestart } = run(7, policy);
      assert.equal(client.issued, 2000);
      assert.equal(client.ok + client.failed + client.pending.size, 2000);
      assert.equal(client.pending.size, 0, 'every request finished');
      assert.ok(client.failed <= client.budgetRefused, `${client.failed} failed, budget refused ${client.budgetRefused}`);
      assert.ok(client.retries > 0, 'the crash caused retries');
      assert.ok(client.ejections.includes('b2'), 'b2 was ejected');
      assert.ok(servedBeforeCrash > 0);
      assert.ok(servedAfterRestart > 0, 'b2 serves again after restart and ejection expiry');
    });
  }

  it('replays bit for bit from its seed', () => {
    const a = run(11, 'p2c');
    const b = run(11, 'p2c');
    const c = run(12, 'p2c');
    assert.equal(a.sim.traceHash(), b.sim.traceHash());
    assert.equal(a.client.retries, b.client.retries);
    assert.notEqual(a.sim.traceHash(), c.sim.traceHash());
  });
});
