import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import type { RumorConfig } from '../../src/gossip/config.ts';
import { demersResidue, roundsLeadingTerms, roundsMeanField } from '../../src/gossip/model.ts';
import { runRumorRounds, summarize } from '../../src/gossip/rounds.ts';
import { RumorMonger, samplePeers } from '../../src/gossip/rumor.ts';

function pair(config: Partial<RumorConfig>) {
  const ids = ['a', 'b'];
  const a = new RumorMonger<string>({ self: 'a', rng: createRng(1), peers: () => ids, config });
  const b = new RumorMonger<string>({ self: 'b', rng: createRng(2), peers: () => ids, config });
  return { a, b };
}

/** Delivers every queued message between the two nodes until both outboxes are empty. */
function exchange(x: RumorMonger<string>, y: RumorMonger<string>): number {
  let count = 0;
  for (;;) {
    const fromX = x.pollMessages();
    const fromY = y.pollMessages();
    if (fromX.length === 0 && fromY.length === 0) return count;
    for (const m of fromX) y.handleMessage(x.self, m.msg);
    for (const m of fromY) x.handleMessage(y.self, m.msg);
    count += fromX.length + fromY.length;
  }
}

describe('gossip/rumor: push, pull, push-pull (Demers et al. 1987)', () => {
  it('push: a hot node sends its rumor to a random peer, which delivers it once', () => {
    const { a, b } = pair({ mode: 'push', stop: { kind: 'counter', k: 2 } });
    const id = a.broadcast('hello');
    assert.deepEqual(a.pollDelivered(), [], 'the originator is not told of its own rumor');
    b.tick();
    assert.deepEqual(b.pollMessages(), [], 'push: a node with nothing hot stays silent');
    a.tick();
    const out = a.pollMessages();
    assert.deepEqual(out, [{ to: 'b', msg: { type: 'rumor-push', rumors: [{ id, payload: 'hello' }], pull: false } }]);
    b.handleMessage('a', out[0]!.msg);
    assert.deepEqual(b.pollDelivered(), [{ id, payload: 'hello' }]);
    assert.ok(b.knows(id));
    b.handleMessage('a', out[0]!.msg);
    assert.deepEqual(b.pollDelivered(), [], 'duplicates are not delivered again');
    assert.equal(b.stats.duplicates, 1);
  });

  it('feedback + counter: the sender loses interest after k unnecessary contacts', () => {
    const { a, b } = pair({ mode: 'push', feedback: true, stop: { kind: 'counter', k: 3 } });
    a.broadcast('x');
    a.tick();
    exchange(a, b); // b learns: a necessary contact, no strike
    assert.equal(a.hotCount(), 1);
    for (let i = 1; i <= 3; i++) {
      a.tick();
      exchange(a, b);
      assert.equal(a.hotCount(), i < 3 ? 1 : 0, `after ${i} unnecessary contacts`);
    }
    a.tick();
    assert.deepEqual(a.pollMessages(), [], 'a removed node no longer pushes');
  });

  it('feedback + coin with k = 1: the first unnecessary contact always stops the rumor', () => {
    const { a, b } = pair({ mode: 'push', feedback: true, stop: { kind: 'coin', k: 1 } });
    const id = a.broadcast('x');
    b.broadcast('x', id); // b already knows it
    a.tick();
    assert.equal(exchange(a, b), 2, 'push then feedback');
    assert.equal(a.hotCount(), 0);
  });

  it('blind + counter: the sender stops after k contacts whatever the partner knew', () => {
    const { a, b } = pair({ mode: 'push', feedback: false, stop: { kind: 'counter', k: 2 } });
    a.broadcast('x');
    a.tick();
    assert.equal(exchange(a, b), 1, 'no feedback message in the blind variant');
    assert.equal(a.hotCount(), 1);
    a.tick();
    exchange(a, b);
    assert.equal(a.hotCount(), 0);
  });

  it('rounds rule: a rumor stays hot for exactly `rounds` rounds after it was learned', () => {
    const { a, b } = pair({ mode: 'push', stop: { kind: 'rounds', rounds: 3 } });
    a.broadcast('x');
    for (let i = 0; i < 3; i++) {
      a.tick();
      assert.equal(a.pollMessages().length, 1, `round ${i + 1} pushes`);
    }
    a.tick();
    assert.equal(a.pollMessages().length, 0);
    void b;
  });

  it('pull with serveFresh false: every node asks every round; an informed node answers from the round after it learned', () => {
    const ids = ['a', 'b', 'c'];
    const mk = (self: string, seed: number) => new RumorMonger<string>({ self, rng: createRng(seed), peers: () => ids, config: { mode: 'pull', serveFresh: false } });
    const [a, b, c] = [mk('a', 1), mk('b', 2), mk('c', 3)];
    const id = a.broadcast('x');
    b.tick();
    const [req] = b.pollMessages();
    assert.deepEqual(req?.msg, { type: 'rumor-pull' });
    a.tick(); // a's rumor was learned before this round: it is served
    a.pollMessages();
    a.handleMessage('b', { type: 'rumor-pull' });
    const [reply] = a.pollMessages();
    assert.equal(reply?.msg.type, 'rumor-reply');
    b.handleMessage('a', reply!.msg);
    assert.deepEqual(b.pollDelivered().map((r) => r.id), [id]);
    // b learned in its round 1: within that round it does not serve the rumor (no two hops per round).
    b.handleMessage('c', { type: 'rumor-pull' });
    assert.deepEqual(b.pollMessages(), []);
    b.tick();
    b.pollMessages();
    b.handleMessage('c', { type: 'rumor-pull' });
    assert.equal(b.pollMessages()[0]?.msg.type, 'rumor-reply');
    void c;
  });

  it('pull with the default serveFresh: a rumor learned this round is served at once', () => {
    const ids = ['a', 'b'];
    const b = new RumorMonger<string>({ self: 'b', rng: createRng(2), peers: () => ids, config: { mode: 'pull' } });
    b.tick();
    b.pollMessages();
    b.handleMessage('a', { type: 'rumor-reply', rumors: [{ id: 'r', payload: 'x' }], known: [] });
    b.handleMessage('c', { type: 'rumor-pull' });
    assert.deepEqual(b.pollMessages().map((o) => o.msg.type), ['rumor-reply']);
  });

  it('push-pull: the callee answers with its hot rumors minus those pushed, plus feedback', () => {
    const { a, b } = pair({ mode: 'push-pull', feedback: true, stop: { kind: 'counter', k: 5 } });
    const shared = a.broadcast('s');
    b.broadcast('s', shared);
    const onlyA = a.broadcast('a-only');
    const onlyB = b.broadcast('b-only');
    b.tick();
    b.pollMessages();
    a.tick();
    const [push] = a.pollMessages();
    assert.equal(push?.msg.type, 'rumor-push');
    b.handleMessage('a', push!.msg);
    assert.deepEqual(b.pollDelivered().map((r) => r.id), [onlyA]);
    const [reply] = b.pollMessages();
    assert.deepEqual(reply?.msg, { type: 'rumor-reply', rumors: [{ id: onlyB, payload: 'b-only' }], known: [shared] });
    a.handleMessage('b', reply!.msg);
    assert.deepEqual(a.pollDelivered().map((r) => r.id), [onlyB]);
  });

  it('limits: rumorsMax evicts the oldest hot rumor; rumorsPerMessageMax sends the least-sent first', () => {
    const { a } = pair({ mode: 'push', rumorsMax: 3, knownMax: 5, rumorsPerMessageMax: 2, stop: { kind: 'rounds', rounds: 100 } });
    for (let i = 1; i <= 4; i++) a.broadcast(`r${i}`, `r${i}`);
    assert.equal(a.hotCount(), 3);
    assert.equal(a.stats.evicted, 1);
    a.tick();
    const first = a.pollMessages()[0]!.msg;
    assert.ok(first.type === 'rumor-push');
    assert.deepEqual(first.rumors.map((r) => r.id), ['r2', 'r3']);
    a.tick();
    const second = a.pollMessages()[0]!.msg;
    assert.ok(second.type === 'rumor-push');
    assert.deepEqual(second.rumors.map((r) => r.id)[0], 'r4', 'the never-sent rumor goes first');
    for (let i = 5; i <= 7; i++) a.broadcast(`r${i}`, `r${i}`);
    assert.equal(a.knows('r1'), false, 'knownMax forgets the oldest ids');
    assert.equal(a.knows('r7'), true);
  });

  it('rejects bad configuration with a message naming the field', () => {
    const mk = (config: Partial<RumorConfig>) => () => new RumorMonger({ self: 'a', rng: createRng(1), peers: () => [], config });
    assert.throws(mk({ fanout: 0 }), (e: unknown) => e instanceof ConfigError && /fanout/.test(e.message));
    assert.throws(mk({ stop: { kind: 'coin', k: 0 } }), /stop\.k/);
    assert.throws(mk({ rumorsMax: 10, knownMax: 5 }), /knownMax/);
  });

  it('samplePeers: distinct, never self, uniform enough', () => {
    const rng = createRng(9);
    const ids = Array.from({ length: 50 }, (_, i) => `n${i}`);
    const counts = new Map<string, number>();
    for (let t = 0; t < 5000; t++) {
      const got = samplePeers(rng, ids, 'n0', 3);
      assert.equal(new Set(got).size, 3);
      assert.ok(!got.includes('n0'));
      for (const g of got) counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    assert.equal(counts.size, 49);
    for (const c of counts.values()) assert.ok(c > 200 && c < 420, `count ${c} (expected ~306)`);
    assert.deepEqual(samplePeers(rng, ['n0', 'n1'], 'n0', 3), ['n1']);
  });
});

describe('gossip/rounds: measured rounds against the models', () => {
  const trial = (mode: 'push' | 'pull' | 'push-pull', n: number, trials: number) => {
    const rounds: number[] = [];
    for (let s = 1; s <= trials; s++) {
      const r = runRumorRounds({ n, seed: s, config: { mode, stop: { kind: 'rounds', rounds: 1000 } }, roundsMax: 200, stopWhenAllInformed: true });
      assert.ok(r.roundsToAll !== undefined, `${mode} n=${n} seed=${s} never reached everyone`);
      rounds.push(r.roundsToAll);
    }
    return summarize(rounds);
  };
  it('R = O(log n) (seed 04.6.6): push ~ log2 n + ln n (Pittel), push-pull ~ log3 n, pull in between', () => {
    const n = 256;
    const push = trial('push', n, 60);
    const pull = trial('pull', n, 60);
    const pp = trial('push-pull', n, 60);
    assert.ok(Math.abs(push.mean - roundsLeadingTerms('push', n)) < 2, `push mean ${push.mean}`);
    assert.ok(Math.abs(pp.mean - roundsMeanField('push-pull', n)) < 1.5, `push-pull mean ${pp.mean}`);
    assert.ok(pp.mean < pull.mean && pull.mean < push.mean, `push-pull ${pp.mean} < pull ${pull.mean} < push ${push.mean}`);
  });
  it("residue of feedback+coin rumor mongering matches Demers' s = e^{-(k+1)(1-s)} for k = 1, 2", () => {
    for (const k of [1, 2]) {
      const res: number[] = [];
      for (let s = 1; s <= 12; s++) {
        const r = runRumorRounds({ n: 1000, seed: s, config: { mode: 'push', feedback: true, stop: { kind: 'coin', k } }, roundsMax: 500, stopWhenAllInformed: false });
        res.push(r.residue);
      }
      const mean = summarize(res).mean;
      const model = demersResidue(k);
      assert.ok(Math.abs(mean - model) < 0.25 * model, `k=${k}: measured ${mean}, model ${model}`);
    }
  });
  it('model values: Demers residues 20.3%, 5.9%, 2.0%, 0.70%, 0.25%', () => {
    const got = [1, 2, 3, 4, 5].map((k) => Number((demersResidue(k) * 100).toFixed(2)));
    assert.deepEqual(got, [20.32, 5.95, 1.98, 0.7, 0.25]);
  });
  it('is deterministic per seed', () => {
    const run = () => runRumorRounds({ n: 64, seed: 7, config: { mode: 'push-pull' }, roundsMax: 100, stopWhenAllInformed: false });
    assert.deepEqual(run(), run());
  });
});
