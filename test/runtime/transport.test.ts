import assert from 'node:assert/strict';
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { createRng } from '../../src/core/rng.ts';
import { bytesCodec, jsonCodec } from '../../src/runtime/transport/codec.ts';
import { encodeFrame, FRAME_HEADER_BYTES, type WireFrame, FrameDecoder, FrameKind } from '../../src/runtime/transport/frame.ts';
import {
  decodeChallenge,
  decodeReject,
  encodeJson,
  FrameSealer,
  frameKey,
  type Hello,
  newNonce,
  proof,
} from '../../src/runtime/transport/handshake.ts';
import {
  backoffDelayMs,
  type PeerAddress,
  TcpTransport,
  type TcpTransportOptions,
  type TransportEvent,
} from '../../src/runtime/transport/tcp.ts';

const KEY = new Uint8Array(32).fill(7);
const OTHER_KEY = new Uint8Array(32).fill(9);

/** A waitable list: `until(pred)` resolves as soon as some pushed item satisfies pred. */
class Waitable<T> {
  readonly items: T[] = [];
  private waiters: { pred: (x: T) => boolean; resolve: (x: T) => void }[] = [];
  push(x: T): void {
    this.items.push(x);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(x)) return true;
      w.resolve(x);
      return false;
    });
  }
  until(pred: (x: T) => boolean): Promise<T> {
    const found = this.items.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
}

interface Node<M> {
  t: TcpTransport<M>;
  addr: PeerAddress;
  received: Waitable<{ from: string; msg: M }>;
  events: Waitable<TransportEvent>;
  warnings: Waitable<{ fields: Record<string, unknown>; msg: string }>;
}

const open: TcpTransport<unknown>[] = [];
after(async () => {
  for (const t of open) await t.close();
});

async function node<M = Uint8Array>(
  id: string,
  extra: Partial<TcpTransportOptions<M>> = {},
  codec: TcpTransportOptions<M>['codec'] = bytesCodec as unknown as TcpTransportOptions<M>['codec'],
): Promise<Node<M>> {
  const received = new Waitable<{ from: string; msg: M }>();
  const events = new Waitable<TransportEvent>();
  const warnings = new Waitable<{ fields: Record<string, unknown>; msg: string }>();
  const t = new TcpTransport<M>({
    nodeId: id,
    clusterId: 'test-cluster',
    codec,
    onMessage: (from, msg) => received.push({ from, msg }),
    onEvent: (e) => events.push(e),
    logger: { info: () => undefined, warn: (fields, msg) => warnings.push({ fields, msg }) },
    backoffBaseMs: 5,
    backoffMaxMs: 40,
    rng: createRng(1),
    ...extra,
  });
  const addr = await t.start();
  open.push(t as TcpTransport<unknown>);
  return { t, addr, received, events, warnings };
}

function link<A, B>(a: Node<A>, b: Node<B>): void {
  a.t.setPeer(b.t.nodeId, b.addr);
  b.t.setPeer(a.t.nodeId, a.addr);
}

const u8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A raw TCP client speaking the frame protocol by hand (to send what a good node never sends). */
async function rawDial(addr: PeerAddress): Promise<{ sock: Socket; frames: Waitable<WireFrame>; closed: Promise<void> }> {
  const sock = tcpConnect(addr);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const frames = new Waitable<WireFrame>();
  const decoder = new FrameDecoder(1 << 20);
  sock.on('data', (c: Buffer) => {
    for (const f of decoder.push(c).frames) frames.push(f);
  });
  sock.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  return { sock, frames, closed };
}

function hello(from: string, to: string, extra: Partial<Hello> = {}): Hello {
  return { v: 1, cluster: 'test-cluster', from, to, nonce: newNonce(), encrypt: false, ...extra };
}

describe('runtime/transport/frame (pure codec)', () => {
  it('round-trips frames split at arbitrary TCP chunk boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), fc.array(fc.nat(300), { maxLength: 30 }), (bodies, cuts) => {
        const wire = Buffer.concat(bodies.map((b) => encodeFrame(FrameKind.data, b)));
        const dec = new FrameDecoder(1000);
        const out: Uint8Array[] = [];
        let at = 0;
        for (const c of cuts) {
          const end = Math.min(wire.length, at + c);
          const r = dec.push(wire.subarray(at, end));
          assert.equal(r.error, undefined);
          out.push(...r.frames.map((f) => f.body));
          at = end;
        }
        const r = dec.push(wire.subarray(at));
        out.push(...r.frames.map((f) => f.body));
        assert.deepEqual(out.map((b) => Buffer.from(b).toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')));
        assert.equal(dec.bufferedBytes, 0);
      }),
      { numRuns: 200 },
    );
  });
  it('detects a flipped bit anywhere in the checksummed part of a frame', () => {
    const frame = encodeFrame(FrameKind.data, u8('hello, peer'));
    for (let pos = 4; pos < frame.length; pos++) {
      const bad = Uint8Array.from(frame);
      bad[pos]! ^= 0x10;
      const r = new FrameDecoder(1000).push(bad);
      assert.equal(r.frames.length, 0, `flip at ${pos}`);
      assert.equal(r.error?.kind, 'checksum');
    }
  });
  it('refuses a frame over the limit from its header alone, before buffering the body', () => {
    const frame = encodeFrame(FrameKind.data, new Uint8Array(2000));
    const r = new FrameDecoder(1999).push(frame.subarray(0, FRAME_HEADER_BYTES));
    assert.deepEqual(r.error, { kind: 'oversized', bodyBytes: 2000, limitBytes: 1999 });
  });
});

describe('runtime/transport backoff', () => {
  it('grows exponentially with equal jitter and is capped', () => {
    const rng = createRng(3);
    for (let attempt = 1; attempt <= 40; attempt++) {
      const exp = Math.min(1000, 10 * 2 ** (attempt - 1));
      for (let k = 0; k < 50; k++) {
        const d = backoffDelayMs(attempt, 10, 1000, rng);
        assert.ok(d >= exp / 2 && d <= exp, `attempt ${attempt}: ${d}`);
      }
    }
  });
});

describe('runtime/transport over loopback TCP', { timeout: 30_000 }, () => {
  it('delivers messages in order, batching many messages into few socket writes', async () => {
    const a = await node('a');
    const b = await node('b');
    link(a, b);
    const n = 2000;
    for (let i = 0; i < n; i++) assert.equal(a.t.send('b', u8(`m${i}`)), 'queued');
    await b.received.until((r) => str(r.msg) === `m${n - 1}`);
    assert.deepEqual(
      b.received.items.map((r) => str(r.msg)),
      Array.from({ length: n }, (_, i) => `m${i}`),
    );
    assert.ok(b.received.items.every((r) => r.from === 'a'));
    const m = a.t.metrics();
    assert.equal(m.messagesSent, n);
    assert.ok(m.writeBatches < n / 10, `writeBatches ${m.writeBatches}`);
    assert.equal(b.t.metrics().messagesReceived, n);
    // And back the other way, over b's own outbound connection, with a JSON codec.
    assert.equal(b.t.send('a', u8('pong')), 'queued');
    await a.received.until((r) => str(r.msg) === 'pong');
    await a.t.close();
    await b.t.close();
  });

  it('authenticates with a cluster key and encrypts frames (AES-256-GCM)', async () => {
    const codec = jsonCodec<{ n: number; text: string }>();
    const a = await node('a', { clusterKey: KEY, encrypt: true }, codec);
    const b = await node('b', { clusterKey: KEY, encrypt: true }, codec);
    link(a, b);
    for (let i = 0; i < 100; i++) a.t.send('b', { n: i, text: 'secret-payload' });
    await b.received.until((r) => r.msg.n === 99);
    assert.deepEqual(
      b.received.items.map((r) => r.msg.n),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(b.t.metrics().handshakesAccepted, 1);
    assert.equal(b.t.metrics().authFailures, 0);
    await a.t.close();
    await b.t.close();
  });

  it('splits encrypted batches at frameBytesMax and refuses messages that cannot fit one frame', async () => {
    const opts = { clusterKey: KEY, encrypt: true, frameBytesMax: 1024, queueBytesMax: 1 << 20 };
    const a = await node('a', opts);
    const b = await node('b', opts);
    link(a, b);
    assert.equal(a.t.send('b', new Uint8Array(1024 - 16 - 4 + 1)), 'too-large');
    const n = 200;
    for (let i = 0; i < n; i++) {
      const m = new Uint8Array(i === 7 ? 1024 - 16 - 4 : 300).fill(i & 0xff);
      assert.equal(a.t.send('b', m), 'queued');
    }
    await b.received.until((r) => b.received.items.length === n && r.msg.length > 0);
    assert.deepEqual(
      b.received.items.map((r) => r.msg[0]),
      Array.from({ length: n }, (_, i) => i & 0xff),
    );
    assert.equal(b.received.items[7]!.msg.length, 1024 - 20);
    assert.equal(b.t.metrics().oversizedFrames, 0);
    assert.ok(a.t.metrics().writeBatches >= n / 3, 'at most three 300-byte messages fit one 1 KiB frame');
    await a.t.close();
    await b.t.close();
  });

  it('encrypted frames do not carry the plaintext on the wire', async () => {
    // A listener that completes the handshake like a node would, then records the raw bytes.
    const raw: Buffer[] = [];
    const gotData = new Waitable<number>();
    const server = createServer((sock) => {
      const dec = new FrameDecoder(1 << 20);
      sock.on('data', (c: Buffer) => {
        for (const f of dec.push(c).frames) {
          if (f.kind === FrameKind.hello) {
            const h = JSON.parse(str(f.body)) as Hello;
            const nonce = newNonce();
            sock.write(encodeFrame(FrameKind.challenge, encodeJson({ nonce, proof: proof(KEY, 'L', h, nonce) })));
          } else if (f.kind === FrameKind.auth) {
            sock.write(encodeFrame(FrameKind.welcome, encodeJson({})));
          } else {
            raw.push(Buffer.from(f.body));
            gotData.push(raw.length);
          }
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const a = await node('a', { clusterKey: KEY, encrypt: true });
    a.t.setPeer('spy', { host: '127.0.0.1', port });
    a.t.send('spy', u8('top-secret-value'));
    await gotData.until((n) => n === 1);
    assert.equal(raw[0]!.length, 4 + 'top-secret-value'.length + 16, 'one length prefix, the message, the GCM tag');
    assert.ok(!raw[0]!.includes(Buffer.from('top-secret')));
    await a.t.close();
    server.close();
  });

  it('drops an encrypted connection on a replayed or forged frame (authenticated decryption fails)', async () => {
    const b = await node('b', { clusterKey: KEY, encrypt: true });
    b.t.setPeer('a', { host: '127.0.0.1', port: 1 });
    const c = await rawDial(b.addr);
    const h = hello('a', 'b', { encrypt: true });
    c.sock.write(encodeFrame(FrameKind.hello, encodeJson(h)));
    const ch = decodeChallenge((await c.frames.until((f) => f.kind === FrameKind.challenge)).body)!;
    c.sock.write(encodeFrame(FrameKind.auth, encodeJson({ proof: proof(KEY, 'D', h, ch.nonce) })));
    await c.frames.until((f) => f.kind === FrameKind.welcome);
    const sealer = new FrameSealer(frameKey(KEY, h, ch.nonce));
    const batch = (msg: string): Uint8Array => {
      const m = u8(msg);
      const plain = Buffer.alloc(4 + m.length);
      plain.writeUInt32BE(m.length, 0);
      plain.set(m, 4);
      return plain;
    };
    const first = encodeFrame(FrameKind.data, sealer.seal(batch('genuine')));
    c.sock.write(first);
    await b.received.until((r) => str(r.msg) === 'genuine');
    c.sock.write(first); // replay: the frame counter has moved on, so the tag no longer verifies
    await c.closed;
    assert.equal(b.t.metrics().authFailures, 1);
    assert.deepEqual(
      b.received.items.map((r) => str(r.msg)),
      ['genuine'],
    );
    await b.events.until((e) => e.type === 'inbound-dropped' && e.reason === 'frame failed authenticated decryption');
    await b.t.close();
  });

  it('drops a connection that sends a corrupted frame, and counts it', async () => {
    const b = await node('b');
    b.t.setPeer('a', { host: '127.0.0.1', port: 1 });
    const c = await rawDial(b.addr);
    c.sock.write(encodeFrame(FrameKind.hello, encodeJson(hello('a', 'b'))));
    await c.frames.until((f) => f.kind === FrameKind.welcome);
    const good = encodeFrame(FrameKind.data, u8('fine'));
    const bad = encodeFrame(FrameKind.data, u8('damaged'));
    bad[bad.length - 1]! ^= 0x01;
    c.sock.write(Buffer.concat([good, bad, encodeFrame(FrameKind.data, u8('never-delivered'))]));
    await c.closed;
    const dropped = await b.events.until((e) => e.type === 'inbound-dropped');
    assert.match((dropped as { reason: string }).reason, /checksum mismatch/);
    assert.deepEqual(
      b.received.items.map((r) => str(r.msg)),
      ['fine'],
    );
    assert.equal(b.t.metrics().checksumFailures, 1);
    assert.ok(b.warnings.items.some((w) => /checksum/.test(String(w.fields.reason))));
    await b.t.close();
  });

  it('refuses an oversized frame (connection dropped, counted) and will not send one', async () => {
    const b = await node('b', { frameBytesMax: 4096, queueBytesMax: 8192 });
    b.t.setPeer('a', { host: '127.0.0.1', port: 1 });
    const c = await rawDial(b.addr);
    c.sock.write(encodeFrame(FrameKind.hello, encodeJson(hello('a', 'b'))));
    await c.frames.until((f) => f.kind === FrameKind.welcome);
    c.sock.write(encodeFrame(FrameKind.data, new Uint8Array(4097)).subarray(0, 100));
    await c.closed;
    assert.equal(b.t.metrics().oversizedFrames, 1);
    assert.equal(b.received.items.length, 0);
    // Sending side: refused before queueing.
    assert.equal(b.t.send('a', new Uint8Array(4097)), 'too-large');
    assert.equal(b.t.metrics().droppedTooLarge, 1);
    // Before the handshake the limit is 4 KiB whatever frameBytesMax says.
    const big = await node('big', { frameBytesMax: 1 << 20 });
    const d = await rawDial(big.addr);
    d.sock.write(encodeFrame(FrameKind.hello, new Uint8Array(5000)).subarray(0, 20));
    await d.closed;
    assert.equal(big.t.metrics().oversizedFrames, 1);
    await b.t.close();
    await big.t.close();
  });

  it('refuses an unknown peer with a logged reason the dialer also sees', async () => {
    const b = await node('b');
    const c = await node('c');
    c.t.setPeer('b', b.addr); // b does not know c
    c.t.send('b', u8('let me in'));
    const refused = await b.events.until((e) => e.type === 'inbound-refused');
    assert.deepEqual(refused, { type: 'inbound-refused', peer: 'c', reason: 'unknown peer "c"' });
    const w = await b.warnings.until((x) => x.msg === 'refused peer connection');
    assert.equal(w.fields.reason, 'unknown peer "c"');
    await c.events.until((e) => e.type === 'connect-failed' && /refused by peer: unknown peer "c"/.test(e.reason));
    assert.equal(c.t.metrics().refusedByPeer >= 1, true);
    assert.equal(b.received.items.length, 0);
    await b.t.close();
    await c.t.close();
  });

  it('refuses a wrong cluster id, a wrong target id and a handshake that never comes', async () => {
    const b = await node('b', { handshakeTimeoutMs: 50 });
    b.t.setPeer('a', { host: '127.0.0.1', port: 1 });
    const cases: [Hello, RegExp][] = [
      [hello('a', 'b', { cluster: 'other' }), /wrong cluster "other"/],
      [hello('a', 'x'), /this node is "b", not "x"/],
      [hello('a', 'b', { v: 99 }), /protocol version 99 not supported/],
      [hello('a', 'b', { encrypt: true }), /encryption setting differs/],
    ];
    for (const [h, reason] of cases) {
      const c = await rawDial(b.addr);
      c.sock.write(encodeFrame(FrameKind.hello, encodeJson(h)));
      const rej = await c.frames.until((f) => f.kind === FrameKind.reject);
      assert.match(decodeReject(rej.body).reason, reason);
      await c.closed;
    }
    const silent = await rawDial(b.addr);
    await silent.closed;
    assert.ok(b.events.items.some((e) => e.type === 'inbound-refused' && e.reason === 'handshake timeout'));
    assert.equal(b.t.metrics().handshakesRefused, 5);
    await b.t.close();
  });

  it('closes inbound connections beyond inboundConnectionsMax', async () => {
    const b = await node('b', { inboundConnectionsMax: 2 });
    const c1 = await rawDial(b.addr);
    const c2 = await rawDial(b.addr);
    const c3 = await rawDial(b.addr);
    await c3.closed;
    await b.warnings.until((w) => /limit 2/.test(String(w.fields.reason)));
    assert.equal(b.t.metrics().inboundOverLimit, 1);
    c1.sock.destroy();
    c2.sock.destroy();
    await b.t.close();
  });

  it('refuses a wrong cluster key on both sides, and a node without a key', async () => {
    const b = await node('b', { clusterKey: KEY });
    // 1. A node with another key: it refuses b, because b cannot prove ITS key.
    const a = await node('a', { clusterKey: OTHER_KEY });
    link(a, b);
    a.t.send('b', u8('x'));
    await a.events.until((e) => e.type === 'connect-failed' && /failed to prove the cluster key/.test(e.reason));
    assert.ok(a.warnings.items.some((w) => /wrong key/.test(String(w.fields.reason))));
    assert.ok(a.t.metrics().authFailures >= 1);
    // 2. A dialer answering the challenge with a wrong proof: b refuses and logs why.
    const c = await rawDial(b.addr);
    const h = hello('a', 'b');
    c.sock.write(encodeFrame(FrameKind.hello, encodeJson(h)));
    const chFrame = await c.frames.until((f) => f.kind === FrameKind.challenge);
    const ch = decodeChallenge(chFrame.body)!;
    c.sock.write(encodeFrame(FrameKind.auth, encodeJson({ proof: proof(OTHER_KEY, 'D', h, ch.nonce) })));
    const rej = await c.frames.until((f) => f.kind === FrameKind.reject);
    assert.match(decodeReject(rej.body).reason, /authentication failed: wrong cluster key/);
    await b.warnings.until((w) => w.fields.reason === 'authentication failed: wrong cluster key');
    assert.equal(b.t.metrics().authFailures, 1);
    // 3. A node without any key cannot answer the challenge.
    const n = await node('n');
    n.t.setPeer('b', b.addr);
    b.t.setPeer('n', n.addr);
    n.t.send('b', u8('x'));
    await n.events.until((e) => e.type === 'connect-failed' && /requires a cluster key/.test(e.reason));
    // 4. A keyed node refuses a listener that does not authenticate.
    b.t.setPeer('k', { host: '127.0.0.1', port: 1 });
    const k = await node('k', { clusterKey: KEY });
    k.t.setPeer('n', n.addr);
    n.t.setPeer('k', k.addr);
    k.t.send('n', u8('x'));
    await k.events.until((e) => e.type === 'connect-failed' && /accepted without authenticating/.test(e.reason));
    assert.equal(b.received.items.length + n.received.items.length, 0);
    for (const x of [a, b, n, k]) await x.t.close();
  });

  it('reconnects with backoff after the peer restarts on the same port', async () => {
    const a = await node('a');
    const b1 = await node('b');
    link(a, b1);
    a.t.send('b', u8('before'));
    await b1.received.until((r) => str(r.msg) === 'before');
    await b1.t.close();
    await a.events.until((e) => e.type === 'disconnected' && e.peer === 'b');
    // While b is down, messages wait in the bounded queue and dials fail with backoff.
    a.t.send('b', u8('during-1'));
    await a.events.until((e) => e.type === 'connect-failed' && e.peer === 'b');
    a.t.send('b', u8('during-2'));
    const b2 = await node('b', { listenPort: b1.addr.port });
    b2.t.setPeer('a', a.addr);
    await b2.received.until((r) => str(r.msg) === 'during-2');
    assert.deepEqual(
      b2.received.items.map((r) => str(r.msg)),
      ['during-1', 'during-2'],
    );
    const m = a.t.metrics();
    assert.equal(m.connects, 2);
    assert.equal(m.disconnects, 1);
    assert.ok(m.connectAttempts >= 3, `attempts ${m.connectAttempts}`);
    assert.equal(a.t.peerStatus('b')?.attempts, 0, 'a good handshake resets the backoff');
    await a.t.close();
    await b2.t.close();
  });

  it('follows a peer to a new address, and a newer inbound connection replaces the older one', async () => {
    const a = await node('a');
    const b1 = await node('b');
    link(a, b1);
    a.t.send('b', u8('one'));
    await b1.received.until((r) => str(r.msg) === 'one');
    const b2 = await node('b'); // same id, new port: as if b moved
    b2.t.setPeer('a', a.addr);
    a.t.setPeer('b', b2.addr);
    a.t.send('b', u8('two'));
    await b2.received.until((r) => str(r.msg) === 'two');
    assert.equal(b1.received.items.length, 1);
    // Two dialers claiming to be 'a' at b2: the second one wins, the first is closed.
    const first = await rawDial(b2.addr);
    first.sock.write(encodeFrame(FrameKind.hello, encodeJson(hello('a', 'b'))));
    await first.frames.until((f) => f.kind === FrameKind.welcome);
    const second = await rawDial(b2.addr);
    second.sock.write(encodeFrame(FrameKind.hello, encodeJson(hello('a', 'b'))));
    await second.frames.until((f) => f.kind === FrameKind.welcome);
    await first.closed;
    assert.equal(b2.t.peerStatus('a')?.inboundConnected, true);
    second.sock.destroy();
    for (const x of [a, b1, b2]) await x.t.close();
  });

  it('bounds the per-peer queue in messages and bytes while the peer is unreachable', async () => {
    const a = await node('a', { queueMessagesMax: 10, frameBytesMax: 1024, queueBytesMax: 4000, backoffBaseMs: 1000, backoffMaxMs: 1000 });
    a.t.setPeer('down', { host: '127.0.0.1', port: 1 });
    const results = Array.from({ length: 15 }, () => a.t.send('down', u8('x')));
    assert.deepEqual(results.filter((r) => r === 'queued').length, 10);
    assert.deepEqual(results.slice(10), Array(5).fill('queue-full'));
    assert.equal(a.t.metrics().droppedQueueFull, 5);
    a.t.setPeer('down2', { host: '127.0.0.1', port: 1 });
    const big = new Uint8Array(1000);
    const r2 = Array.from({ length: 5 }, () => a.t.send('down2', big));
    assert.deepEqual(r2, ['queued', 'queued', 'queued', 'queued', 'queue-full']);
    assert.equal(a.t.peerStatus('down2')?.queuedBytes, 4000);
    assert.equal(a.t.send('nobody', u8('x')), 'unknown-peer');
    await a.t.close();
    assert.equal(a.t.send('down', u8('x')), 'closed');
  });

  it('applies backpressure when the peer stops reading: writes pause, the queue fills and drops', async () => {
    // A listener that accepts the handshake and then never reads again.
    const sockets: Socket[] = [];
    const server = createServer((sock) => {
      sockets.push(sock);
      const dec = new FrameDecoder(1 << 20);
      sock.on('data', (c: Buffer) => {
        for (const f of dec.push(c).frames) {
          if (f.kind === FrameKind.hello) {
            sock.write(encodeFrame(FrameKind.welcome, encodeJson({})));
            sock.pause();
          }
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const queueBytesMax = 1 << 20;
    const a = await node('a', { queueBytesMax, frameBytesMax: 65536, queueMessagesMax: 100_000 });
    a.t.setPeer('stuck', { host: '127.0.0.1', port });
    const msg = new Uint8Array(60_000);
    let full = 0;
    for (let i = 0; i < 4000 && full === 0; i++) {
      if (a.t.send('stuck', msg) === 'queue-full') full++;
      await new Promise<void>((r) => setImmediate(r));
    }
    assert.equal(full, 1, 'the queue must fill once the socket stops draining');
    const status = a.t.peerStatus('stuck')!;
    assert.equal(status.state, 'ready');
    assert.ok(status.queuedBytes <= queueBytesMax && status.queuedBytes > queueBytesMax - 60_000, `queued ${status.queuedBytes}`);
    assert.equal(a.t.metrics().droppedQueueFull, 1);
    await a.t.close();
    for (const s of sockets) s.destroy();
    server.close();
  });
});
