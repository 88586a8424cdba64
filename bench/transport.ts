/**
 * Peer transport throughput on loopback: messages/s from one TcpTransport to another in the
 * same process (frames with CRC-32C, batching, optional AES-256-GCM), against a plain Node `net`
 * socket sending 4-byte length-prefixed messages, one `socket.write` each, in the same run.
 * Both sides keep at most `window` messages in flight.
 *
 * The machine is shared, so each size runs `--rounds` times alternating the three variants; the
 * table reports medians and the median of the per-round ratios.
 *
 * Run: node --import tsx bench/transport.ts [--messages 100000] [--rounds 3]
 */
import { createServer, connect as tcpConnect } from 'node:net';
import { createRng } from '../src/core/rng.ts';
import { bytesCodec } from '../src/runtime/transport/codec.ts';
import { TcpTransport } from '../src/runtime/transport/tcp.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const total = Number(arg('--messages', '100000'));
const rounds = Number(arg('--rounds', '3'));
const window = 4000;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function clusterkit(size: number, secure: boolean): Promise<number> {
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const key = secure ? new Uint8Array(32).fill(1) : undefined;
  const common = { clusterId: 'bench', codec: bytesCodec, rng: createRng(1), queueMessagesMax: 2 * window, ...(key ? { clusterKey: key, encrypt: true } : {}) };
  const b = new TcpTransport({ ...common, nodeId: 'b', onMessage: () => (++received === total ? done() : undefined) });
  const a = new TcpTransport({ ...common, nodeId: 'a', onMessage: () => undefined });
  const addrB = await b.start();
  const addrA = await a.start();
  a.setPeer('b', addrB);
  b.setPeer('a', addrA);
  const msg = new Uint8Array(size).fill(3);
  a.send('b', msg);
  while (received < 1) await tick(); // connection and handshake outside the timed part
  const t0 = performance.now();
  let sent = 1;
  while (sent < total) {
    while (sent < total && sent - received < window) {
      if (a.send('b', msg) !== 'queued') break;
      sent++;
    }
    await tick();
  }
  await finished;
  const s = (performance.now() - t0) / 1000;
  await a.close();
  await b.close();
  return (total - 1) / s;
}

async function plainNet(size: number): Promise<number> {
  let received = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const server = createServer((sock) => {
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
      let at = 0;
      while (buf.length - at >= 4) {
        const len = buf.readUInt32BE(at);
        if (buf.length - at - 4 < len) break;
        at += 4 + len;
        if (++received === total) done();
      }
      buf = buf.subarray(at);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const sock = tcpConnect({ host: '127.0.0.1', port });
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', r));
  const frame = Buffer.alloc(4 + size, 3);
  frame.writeUInt32BE(size, 0);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    while (sent < total && sent - received < window) {
      sock.write(frame);
      sent++;
    }
    await tick();
  }
  await finished;
  const s = (performance.now() - t0) / 1000;
  sock.destroy();
  server.close();
  return total / s;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const rows = [
  '| message | plain net msgs/s | clusterkit msgs/s | ratio | clusterkit + AES-GCM msgs/s | ratio |',
  '|---:|---:|---:|---:|---:|---:|',
];
for (const size of [64, 256, 4096]) {
  const plain: number[] = [];
  const ck: number[] = [];
  const sec: number[] = [];
  const ckRatio: number[] = [];
  const secRatio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const p = await plainNet(size);
    const c = await clusterkit(size, false);
    const e = await clusterkit(size, true);
    plain.push(p);
    ck.push(c);
    sec.push(e);
    ckRatio.push(c / p);
    secRatio.push(e / p);
    console.log(`${size} B round ${r + 1}: plain ${p.toFixed(0)}, clusterkit ${c.toFixed(0)}, with AES-GCM ${e.toFixed(0)} msgs/s`);
  }
  rows.push(
    `| ${size} B | ${median(plain).toFixed(0)} | ${median(ck).toFixed(0)} | ${median(ckRatio).toFixed(2)}x | ${median(sec).toFixed(0)} | ${median(secRatio).toFixed(2)}x |`,
  );
}
console.log(`\n${rows.join('\n')}`);
