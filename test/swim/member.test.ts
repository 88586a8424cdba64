import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { decodePacket, encodePacket } from '../../src/membership/swim/codec.ts';
import { lanConfig, retransmitLimit, type SwimConfig } from '../../src/membership/swim/config.ts';
import { type Outgoing, SwimMember } from '../../src/membership/swim/member.ts';
import type { SwimBody, SwimPacket, SwimUpdate } from '../../src/membership/swim/messages.ts';

function mk(name: string, cfg: Partial<SwimConfig> = {}, seed = 1): SwimMember {
  return new SwimMember({ name, address: name, config: { ...lanConfig(), gossipIntervalMs: 0, pushPullIntervalMs: 0, reconnectIntervalMs: 0, ...cfg }, rng: createRng(seed), nowMs: 0 });
}

function pkt(from: string, body: SwimBody, updates: SwimUpdate[] = []): Uint8Array {
  return encodePacket({ from, body, updates });
}

function alive(name: string, incarnation = 0, meta = ''): SwimUpdate {
  return { type: 'alive', name, address: name, meta, incarnation };
}

/** Teaches `m` about `names` through one gossip packet. */
function know(m: SwimMember, ...names: string[]): void {
  m.handlePacket('seed', pkt('seed', { type: 'gossip' }, names.map((n) => alive(n))));
  m.drainEvents();
  m.drainOutgoing();
}

/** Datagrams only (a packet from an unknown member also triggers a learn-on-contact push-pull). */
function dgrams(out: Outgoing[]): Outgoing[] {
  return out.filter((o) => o.channel === 'packet');
}

function bodies(out: Outgoing[], type: SwimBody['type']): Outgoing[] {
  return out.filter((o) => o.packet.body.type === type);
}

/** Ticks `m` until it sends a ping; returns it. */
function nextPing(m: SwimMember, limitMs = 10_000): Outgoing {
  for (let i = 0; i < 100; i++) {
    const t = m.nextDeadlineMs();
    assert.ok(t <= limitMs, `no ping before ${limitMs} ms`);
    m.tick(t);
    const pings = bodies(m.drainOutgoing(), 'ping');
    if (pings.length > 0) return pings[0] as Outgoing;
  }
  throw new Error('no ping');
}

describe('SWIM member (sans-IO)', () => {
  it('answers a ping with an ack carrying the same sequence number, to the sender address', () => {
    const a = mk('a');
    a.handlePacket('addr-b', pkt('b', { type: 'ping', seq: 7, target: 'a' }));
    const out = dgrams(a.drainOutgoing());
    assert.equal(out.length, 1);
    assert.equal(out[0]?.to, 'addr-b');
    assert.deepEqual(out[0]?.packet.body, { type: 'ack', seq: 7 });
  });

  it('drops a ping meant for another name (stale address)', () => {
    const a = mk('a');
    a.handlePacket('b', pkt('b', { type: 'ping', seq: 7, target: 'zz' }));
    assert.equal(dgrams(a.drainOutgoing()).length, 0);
    assert.equal(a.stats.misdirected, 1);
  });

  it('probes members round-robin: each member once per pass, in a fresh order each pass', () => {
    const a = mk('a');
    know(a, 'b', 'c', 'd', 'e');
    const passes: string[][] = [];
    for (let pass = 0; pass < 6; pass++) {
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const p = nextPing(a, 1e9);
        const body = p.packet.body as Extract<SwimBody, { type: 'ping' }>;
        seen.push(body.target);
        a.handlePacket(p.to, pkt(body.target, { type: 'ack', seq: body.seq }));
      }
      assert.deepEqual([...seen].sort(), ['b', 'c', 'd', 'e']);
      passes.push(seen);
    }
    assert.ok(new Set(passes.map((p) => p.join())).size > 1, 'order never reshuffled');
  });

  it('a missing direct ack triggers ping-req through k alive members other than the target', () => {
    const a = mk('a', { indirectChecks: 3 });
    know(a, 'b', 'c', 'd', 'e', 'f');
    const ping = nextPing(a);
    const target = (ping.packet.body as Extract<SwimBody, { type: 'ping' }>).target;
    a.tick(a.nextDeadlineMs());
    const reqs = bodies(a.drainOutgoing(), 'ping-req');
    assert.equal(reqs.length, 3);
    assert.ok(reqs.every((r) => r.to !== target && r.to !== 'a'));
    assert.equal(new Set(reqs.map((r) => r.to)).size, 3);
  });

  it('a ping-req helper relays the target ack with the original sequence number', () => {
    const h = mk('h');
    h.handlePacket('a', pkt('a', { type: 'ping-req', seq: 42, target: 't', targetAddress: 't' }));
    const ping = dgrams(h.drainOutgoing())[0] as Outgoing;
    assert.equal(ping.to, 't');
    const seq = (ping.packet.body as Extract<SwimBody, { type: 'ping' }>).seq;
    h.handlePacket('t', pkt('t', { type: 'ack', seq }));
    const relayed = dgrams(h.drainOutgoing());
    assert.deepEqual(relayed.map((o) => [o.to, o.packet.body]), [['a', { type: 'ack', seq: 42 }]]);
  });

  it('Lifeguard: a helper that gets no ack sends a nack at 80% of the probe timeout', () => {
    const h = mk('h');
    h.handlePacket('a', pkt('a', { type: 'ping-req', seq: 42, target: 't', targetAddress: 't' }));
    h.drainOutgoing();
    h.tick(399);
    assert.equal(bodies(h.drainOutgoing(), 'nack').length, 0);
    h.tick(400);
    assert.deepEqual(bodies(h.drainOutgoing(), 'nack').map((o) => [o.to, o.packet.body]), [['a', { type: 'nack', seq: 42 }]]);
  });

  it('an unanswered probe makes the target suspect; missing nacks raise the local health multiplier', () => {
    const a = mk('a', { indirectChecks: 2 });
    know(a, 'b', 'c', 'd');
    const target = (nextPing(a).packet.body as Extract<SwimBody, { type: 'ping' }>).target;
    a.tick(a.nextDeadlineMs()); // ping-req
    const reqs = bodies(a.drainOutgoing(), 'ping-req');
    assert.equal(reqs.length, 2);
    // One helper answers with a nack, the other stays silent.
    const req = reqs[0] as Outgoing;
    const seq = (req.packet.body as Extract<SwimBody, { type: 'ping-req' }>).seq;
    a.handlePacket(req.to, pkt(req.to, { type: 'nack', seq }));
    while (a.member(target)?.state === 'alive') a.tick(a.nextDeadlineMs());
    assert.equal(a.member(target)?.state, 'suspect');
    assert.equal(a.healthScore, 1);
    assert.deepEqual(a.drainEvents().map((e) => [e.type, e.member.name]), [['suspect', target]]);
  });

  it('plain SWIM (lifeguard off): no nacks are counted and the health multiplier stays 0', () => {
    const a = mk('a', { lifeguard: false, indirectChecks: 2 });
    know(a, 'b', 'c', 'd');
    const target = (nextPing(a).packet.body as Extract<SwimBody, { type: 'ping' }>).target;
    while (a.member(target)?.state === 'alive') a.tick(a.nextDeadlineMs());
    assert.equal(a.healthScore, 0);
  });

  it('a suspect is declared dead after the suspicion timeout unless it refutes', () => {
    const a = mk('a');
    know(a, 'b', 'c', 'd', 'e', 'f');
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'c' }]));
    assert.equal(a.member('b')?.state, 'suspect');
    // n = 6 live: min = 4·log10(6)... floor = 4000·max(1, 0.778) = 4000; max = 24000 with no confirmations.
    let t = 0;
    while (a.member('b')?.state === 'suspect') {
      t = a.nextDeadlineMs();
      a.tick(t);
      // Ack every probe (a slow b that has not refuted yet) so no one raises a second suspicion.
      for (const o of bodies(a.drainOutgoing(), 'ping')) {
        const body = o.packet.body as Extract<SwimBody, { type: 'ping' }>;
        a.handlePacket(o.to, pkt(body.target, { type: 'ack', seq: body.seq }));
      }
    }
    assert.equal(a.member('b')?.state, 'dead');
    assert.equal(t, 24000);
    assert.deepEqual(a.drainEvents().filter((e) => e.member.name === 'b').map((e) => e.type), ['suspect', 'fail']);
  });

  it('Lifeguard: independent confirmations shrink the suspicion timeout to min', () => {
    const a = mk('a', { probeIntervalMs: 1_000_000, probeTimeoutMs: 500 });
    know(a, 'b', 'c', 'd', 'e', 'f');
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'c' }]));
    a.handlePacket('d', pkt('d', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'd' }]));
    a.handlePacket('e', pkt('e', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'e' }]));
    // K = suspicionMult − 2 = 2 confirmations reach min = 4 · 1 · probeIntervalMs.
    const min = 4 * 1_000_000;
    a.tick(min - 1);
    assert.equal(a.member('b')?.state, 'suspect');
    a.tick(min);
    assert.equal(a.member('b')?.state, 'dead');
  });

  it('refutation: a member suspected at incarnation i answers with alive at i + 1, which clears the suspicion elsewhere', () => {
    const b = mk('b');
    b.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'c' }]));
    assert.equal(b.incarnation, 1);
    assert.equal(b.stats.refutations, 1);
    b.handlePacket('c', pkt('c', { type: 'ping', seq: 1, target: 'b' }));
    const ack = dgrams(b.drainOutgoing())[0] as Outgoing;
    assert.deepEqual(ack.packet.updates[0], alive('b', 1));
    const a = mk('a');
    know(a, 'b', 'c');
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'c' }]));
    a.handlePacket('b', ack.bytes);
    assert.equal(a.member('b')?.state, 'alive');
    assert.equal(a.member('b')?.incarnation, 1);
    assert.deepEqual(a.drainEvents().map((e) => e.type), ['suspect', 'alive']);
    // An alive at the suspected incarnation does not override the suspicion.
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 1, from: 'c' }]));
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [alive('b', 1)]));
    assert.equal(a.member('b')?.state, 'suspect');
  });

  it('a stale accusation (below our incarnation) is answered by re-sending our current alive in the reply', () => {
    const b = mk('b');
    b.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'c' }]));
    assert.equal(b.incarnation, 1);
    // Let the refutation retire from the piggyback queue.
    for (let i = 0; i < 20; i++) b.handlePacket('c', pkt('c', { type: 'ping', seq: 100 + i, target: 'b' }));
    b.drainOutgoing();
    assert.equal(b.broadcastQueueSize, 0);
    // A member that missed it pings with its old suspicion (buddy system): the ack carries alive@1.
    b.handlePacket('a', pkt('a', { type: 'ping', seq: 1, target: 'b' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'a' }]));
    const ack = dgrams(b.drainOutgoing())[0] as Outgoing;
    assert.deepEqual(ack.packet.body, { type: 'ack', seq: 1 });
    assert.deepEqual(ack.packet.updates[0], alive('b', 1));
    assert.equal(b.incarnation, 1, 'a stale accusation must not bump the incarnation');
    assert.equal(b.stats.staleAccusations, 1);
  });

  it('Lifeguard buddy system: a ping to a suspect carries its suspicion first, so it refutes in the ack', () => {
    const a = mk('a');
    know(a, 'b');
    a.handlePacket('b', pkt('c', { type: 'gossip' }, [{ type: 'suspect', name: 'b', incarnation: 0, from: 'c' }]));
    const ping = nextPing(a);
    assert.deepEqual(ping.packet.updates[0], { type: 'suspect', name: 'b', incarnation: 0, from: 'a' });
    const b = mk('b');
    b.handlePacket('a', ping.bytes);
    const ack = dgrams(b.drainOutgoing())[0] as Outgoing;
    assert.equal(ack.packet.body.type, 'ack');
    a.handlePacket('b', ack.bytes);
    assert.equal(a.member('b')?.state, 'alive');
  });

  it('a dead member ignores stale alives and rejoins with a higher incarnation (join event)', () => {
    const a = mk('a');
    know(a, 'b');
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'dead', name: 'b', incarnation: 0, from: 'c' }]));
    a.handlePacket('b', pkt('b', { type: 'gossip' }, [alive('b', 0)]));
    assert.equal(a.member('b')?.state, 'dead');
    a.handlePacket('b', pkt('b', { type: 'gossip' }, [{ ...alive('b', 1), address: 'b2' } as SwimUpdate]));
    assert.equal(a.member('b')?.state, 'alive');
    assert.equal(a.member('b')?.address, 'b2');
    assert.deepEqual(a.drainEvents().map((e) => e.type), ['fail', 'join']);
  });

  it('graceful leave: the leaver broadcasts left, peers emit a leave event and stop probing it', () => {
    const b = mk('b', { gossipIntervalMs: 200 });
    know(b, 'a');
    b.leave();
    const out = b.drainOutgoing();
    const left = out.flatMap((o) => o.packet.updates).find((u) => u.type === 'left');
    assert.deepEqual(left, { type: 'left', name: 'b', incarnation: 0 });
    const a = mk('a');
    know(a, 'b');
    a.handlePacket('b', (out[0] as Outgoing).bytes);
    assert.equal(a.member('b')?.state, 'left');
    assert.deepEqual(a.drainEvents().map((e) => e.type), ['leave']);
    assert.equal(a.nextDeadlineMs() > 0, true);
    a.tick(10_000);
    assert.equal(bodies(a.drainOutgoing(), 'ping').length, 0);
    // Others cannot kill a leaving member's own view: it does not refute.
    b.handlePacket('a', pkt('a', { type: 'gossip' }, [{ type: 'dead', name: 'b', incarnation: 0, from: 'a' }]));
    assert.equal(b.incarnation, 0);
  });

  it('join: a seed answers a push-pull with its state; both sides learn each other', () => {
    const seed = mk('s');
    know(seed, 'x');
    const j = mk('j');
    j.join(['s', 'j']);
    const out = j.drainOutgoing();
    assert.equal(out.length, 1);
    assert.equal(out[0]?.channel, 'stream');
    const reply = seed.handleStream('j', (out[0] as Outgoing).bytes);
    assert.ok(reply !== undefined);
    assert.equal(seed.member('j')?.state, 'alive');
    j.handleStream('s', reply);
    assert.deepEqual(j.membersView().map((m) => m.name), ['j', 's', 'x']);
    assert.deepEqual(j.drainEvents().map((e) => [e.type, e.member.name]), [['join', 's'], ['join', 'x']]);
  });

  it('a restarted member learns it was declared dead through push-pull and refutes it', () => {
    const seed = mk('s');
    know(seed, 'j');
    seed.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'dead', name: 'j', incarnation: 3, from: 'c' }]));
    const j = mk('j');
    j.join(['s']);
    const reply = seed.handleStream('j', (j.drainOutgoing()[0] as Outgoing).bytes) as Uint8Array;
    j.handleStream('s', reply);
    assert.equal(j.incarnation, 4);
    seed.handlePacket('j', pkt('j', { type: 'gossip' }, [alive('j', 4)]));
    assert.equal(seed.member('j')?.state, 'alive');
  });

  it('Serf reconnect: a member keeps pushing its state to a member it declared dead, even after forgetting it', () => {
    const a = mk('a', { reconnectIntervalMs: 1000, gossipToTheDeadMs: 2000, probeIntervalMs: 1000, probeTimeoutMs: 500 });
    know(a, 'b');
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'dead', name: 'b', incarnation: 0, from: 'c' }]));
    const pushes: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = a.nextDeadlineMs();
      a.tick(t);
      for (const o of a.drainOutgoing()) if (o.channel === 'stream' && o.to === 'b') pushes.push(t);
    }
    assert.equal(a.member('b'), undefined, 'the dead member should have been forgotten');
    assert.ok(pushes.length >= 3, `only ${pushes.length} reconnect attempts`);
    assert.ok((pushes.at(-1) ?? 0) > 2000, 'no attempt after the member was forgotten');
  });

  it('a datagram from an unknown or dead member triggers one push-pull to it (rate-limited)', () => {
    const a = mk('a');
    a.handlePacket('addr-z', pkt('z', { type: 'ping', seq: 1, target: 'a' }));
    const first = a.drainOutgoing().filter((o) => o.channel === 'stream');
    assert.deepEqual(first.map((o) => [o.to, o.packet.body.type]), [['addr-z', 'push-pull']]);
    a.handlePacket('addr-z', pkt('z', { type: 'ping', seq: 2, target: 'a' }));
    assert.equal(a.drainOutgoing().filter((o) => o.channel === 'stream').length, 0, 'not rate-limited');
    // A known, alive sender triggers nothing.
    know(a, 'y');
    a.handlePacket('y', pkt('y', { type: 'ping', seq: 3, target: 'a' }));
    assert.equal(a.drainOutgoing().filter((o) => o.channel === 'stream').length, 0);
    // A sender we believe dead does.
    a.handlePacket('c', pkt('c', { type: 'gossip' }, [{ type: 'dead', name: 'y', incarnation: 0, from: 'c' }]));
    a.drainOutgoing();
    a.handlePacket('y', pkt('y', { type: 'ping', seq: 4, target: 'a' }));
    assert.equal(a.drainOutgoing().filter((o) => o.channel === 'stream' && o.to === 'y').length, 1);
    // z, the 'seed' and 'c' senders (unknown), and y (dead).
    assert.equal(a.stats.contactPushPulls, 4);
  });

  it('a leaving member answers pings with its departure first', () => {
    const b = mk('b');
    know(b, 'a');
    b.leave();
    b.drainOutgoing();
    b.handlePacket('a', pkt('a', { type: 'ping', seq: 9, target: 'b' }));
    const ack = dgrams(b.drainOutgoing())[0] as Outgoing;
    assert.deepEqual(ack.packet.body, { type: 'ack', seq: 9 });
    assert.deepEqual(ack.packet.updates[0], { type: 'left', name: 'b', incarnation: 0 });
  });

  it('metadata is bounded and spreads as an update event', () => {
    assert.throws(() => mk('a', { metaBytesMax: 4 }).setMeta('12345'), ConfigError);
    const a = mk('a');
    know(a, 'b');
    a.handlePacket('b', pkt('b', { type: 'gossip' }, [alive('b', 1, 'zone=eu')]));
    assert.deepEqual(a.drainEvents().map((e) => [e.type, e.member.meta]), [['update', 'zone=eu']]);
    const b = mk('b');
    b.setMeta('role=db');
    assert.equal(b.incarnation, 1);
  });

  it('an update is piggybacked at most retransmitMult · ceil(log10(n + 1)) times', () => {
    const a = mk('a');
    know(a, 'b', 'c', 'd');
    a.handlePacket('b', pkt('b', { type: 'gossip' }, [{ type: 'suspect', name: 'c', incarnation: 0, from: 'b' }]));
    let carried = 0;
    for (let i = 0; i < 50; i++) {
      a.handlePacket('b', pkt('b', { type: 'ping', seq: i, target: 'a' }));
      for (const o of a.drainOutgoing()) if (o.packet.updates.some((u) => u.name === 'c' && u.type === 'suspect')) carried++;
    }
    assert.equal(carried, retransmitLimit(4, 4));
  });

  it('packs piggybacked updates within packetBytesMax', () => {
    const a = mk('a', { packetBytesMax: 600, metaBytesMax: 100 });
    const many: SwimUpdate[] = [];
    for (let i = 0; i < 60; i++) many.push(alive(`member-${i}`, 0, 'm'.repeat(50)));
    // Deliver in several packets that each fit.
    for (let i = 0; i < many.length; i += 4) a.handlePacket('x', pkt('x', { type: 'gossip' }, many.slice(i, i + 4)));
    let total = 0;
    for (let i = 0; i < 20; i++) {
      a.handlePacket('x', pkt('x', { type: 'ping', seq: i, target: 'a' }));
      for (const o of dgrams(a.drainOutgoing())) {
        assert.ok(o.bytes.length <= 600, `${o.bytes.length} bytes`);
        const d = decodePacket(o.bytes, { bytesMax: 600, metaBytesMax: 100, membersMax: 100 });
        assert.ok(d.ok);
        total += o.packet.updates.length;
      }
    }
    assert.ok(total >= 60, `only ${total} updates sent`);
  });

  it('sans-IO: the same seed and inputs give the same outputs', () => {
    const run = (): string => {
      const a = mk('a', {}, 7);
      know(a, 'b', 'c', 'd', 'e');
      const log: SwimPacket[] = [];
      for (let i = 0; i < 30; i++) {
        a.tick(a.nextDeadlineMs());
        for (const o of a.drainOutgoing()) log.push(o.packet);
      }
      return JSON.stringify(log);
    };
    assert.equal(run(), run());
  });
});
