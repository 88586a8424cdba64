import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../../src/core/rng.ts';
import { decodePacket, encodePacket, HEADER_BYTES } from '../../src/membership/swim/codec.ts';
import { lanConfig } from '../../src/membership/swim/config.ts';
import { SwimMember } from '../../src/membership/swim/member.ts';
import type { SwimPacket } from '../../src/membership/swim/messages.ts';

const limits = { bytesMax: 1400, metaBytesMax: 512, membersMax: 100 };

const samples: SwimPacket[] = [
  { from: 'a', body: { type: 'ping', seq: 1, target: 'b' }, updates: [] },
  { from: 'a', body: { type: 'ack', seq: 2 }, updates: [{ type: 'alive', name: 'c', address: '127.0.0.1:7946', meta: 'zone=1', incarnation: 3 }] },
  { from: 'a', body: { type: 'nack', seq: 2 }, updates: [{ type: 'suspect', name: 'c', incarnation: 3, from: 'b' }] },
  { from: 'a', body: { type: 'ping-req', seq: 9, target: 'b', targetAddress: 'b' }, updates: [{ type: 'dead', name: 'c', incarnation: 0, from: 'a' }] },
  { from: 'a', body: { type: 'gossip' }, updates: [{ type: 'left', name: 'd', incarnation: 5 }] },
  { from: 'a', body: { type: 'push-pull', join: true, fromAddress: 'a', states: [{ name: 'a', address: 'a', meta: '', incarnation: 0, state: 'alive' }] }, updates: [] },
  { from: 'a', body: { type: 'push-pull-reply', states: [{ name: 'b', address: 'b', meta: 'x', incarnation: 1, state: 'suspect' }] }, updates: [] },
];

function withBody(body: string): Uint8Array {
  const b = new TextEncoder().encode(body);
  const out = new Uint8Array(HEADER_BYTES + b.length);
  out[0] = 0x53;
  out[1] = 1;
  new DataView(out.buffer).setUint32(2, b.length);
  out.set(b, HEADER_BYTES);
  return out;
}

describe('swim codec', () => {
  it('round-trips every message type', () => {
    for (const p of samples) {
      const r = decodePacket(encodePacket(p), limits);
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.packet, p);
    }
  });

  it('rejects truncated, oversized, bad-magic, bad-version, malformed and invalid packets with their reason', () => {
    const good = encodePacket(samples[1] as SwimPacket);
    const cases: [Uint8Array, string][] = [
      [good.subarray(0, 3), 'truncated'],
      [good.subarray(0, good.length - 1), 'truncated'],
      [new Uint8Array(1401), 'oversized'],
      [Uint8Array.from([0x00, ...good.subarray(1)]), 'bad-magic'],
      [Uint8Array.from([0x53, 9, ...good.subarray(2)]), 'bad-version'],
      [withBody('{"from":'), 'malformed'],
      [Uint8Array.from([...good, 0x20]), 'malformed'],
      [withBody('{"from":"a","body":{"type":"ping","seq":1,"target":"b"},"updates":[],"extra":1}'), 'invalid'],
      [withBody('{"from":"a","body":{"type":"ping","seq":-1,"target":"b"},"updates":[]}'), 'invalid'],
      [withBody('{"from":"a","body":{"type":"ping","seq":1.5,"target":"b"},"updates":[]}'), 'invalid'],
      [withBody('{"from":"a b","body":{"type":"gossip"},"updates":[]}'), 'invalid'],
      [withBody('{"from":"a","body":{"type":"teleport"},"updates":[]}'), 'invalid'],
      [withBody('{"from":"a","body":{"type":"gossip"},"updates":[{"type":"alive","name":"c","address":"","meta":"","incarnation":0}]}'), 'invalid'],
      [withBody(`{"from":"a","body":{"type":"gossip"},"updates":[{"type":"alive","name":"c","address":"c","meta":"${'m'.repeat(513)}","incarnation":0}]}`), 'invalid'],
      [withBody('{"from":"a","body":{"type":"push-pull-reply","states":[{"name":"b","address":"b","meta":"","incarnation":0,"state":"zombie"}]},"updates":[]}'), 'invalid'],
      [withBody('[1,2,3]'), 'invalid'],
    ];
    for (const [bytes, reason] of cases) {
      const r = decodePacket(bytes, limits);
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.reason, reason, `${r.reason}: ${r.detail}`);
    }
  });

  it('a member counts rejected packets by reason and never throws (fuzzed)', () => {
    const m = new SwimMember({ name: 'a', address: 'a', config: lanConfig(), rng: createRng(1), nowMs: 0 });
    const good = encodePacket(samples[2] as SwimPacket);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(good.length), fc.uint8Array({ maxLength: 8 }), (noise, cut, patch) => {
        m.handlePacket('x', noise);
        const mutated = good.slice(0, cut);
        mutated.set(patch.subarray(0, Math.max(0, Math.min(patch.length, mutated.length - HEADER_BYTES))), Math.min(HEADER_BYTES, mutated.length));
        m.handlePacket('x', mutated);
        m.handleStream('x', mutated);
      }),
      { numRuns: 300, seed: 42 },
    );
    const total = Object.values(m.stats.rejected).reduce((s, v) => s + v, 0);
    assert.ok(total > 300, `rejected ${total}`);
    assert.ok(m.stats.rejected.truncated > 0 && m.stats.rejected['bad-magic'] > 0);
  });
});
