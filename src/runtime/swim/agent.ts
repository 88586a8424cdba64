/**
 * The real host for a SWIM member: datagrams over UDP (node:dgram), push-pull and joins over TCP
 * (node:net) on the same port number, real time from `RealClock`, one re-armed timer driven by
 * the member's `nextDeadlineMs()`, optional AES-256-GCM encryption through a `Keyring`. Binds
 * 127.0.0.1 by default. Wrongly-encrypted, oversized or malformed input is dropped and counted,
 * never thrown. The TCP port also answers a loopback-only status query (the member list) used by
 * `clusterkit gossip members`. Leaves out NAT traversal, DNS names for seeds (use IP:port) and
 * memberlist's TCP fallback probe.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { RealClock } from '../../core/clock.ts';
import { ConfigError, DefiniteError } from '../../core/errors.ts';
import { createRng } from '../../core/rng.ts';
import { lanConfig, type SwimConfig, validateSwimConfig } from '../../membership/swim/config.ts';
import { type MemberView, type SwimEvent, SwimMember, type SwimStats } from '../../membership/swim/member.ts';
import { type Keyring, SEAL_OVERHEAD_BYTES } from './keyring.ts';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port` or `[v6]:port`. */
export function parseHostPort(value: string, what = 'address'): HostPort {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:\s]+):(\d{1,5})$/.exec(value);
  if (m === null) throw new ConfigError(`${what} ${JSON.stringify(value)} must look like 127.0.0.1:7946`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`${what} port ${port} is out of range 0..65535`);
  const host = m[1] as string;
  if (net.isIP(host) === 0) throw new ConfigError(`${what} host ${JSON.stringify(host)} must be an IP address (no DNS names)`);
  return { host, port };
}

export function formatHostPort(hp: HostPort): string {
  return net.isIPv6(hp.host) ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** First byte of a TCP connection: what follows. */
const STREAM_MEMBER = 0x01;
const STREAM_STATUS = 0x02;
const FRAME_HEADER_BYTES = 4;

export interface SwimAgentOptions {
  name: string;
  /** Bind address, default 127.0.0.1:7946. Port 0 picks a free port (same number for UDP and TCP). */
  bind?: string;
  /** Address announced to others, default the bound address. */
  advertise?: string;
  config?: SwimConfig;
  meta?: string;
  keyring?: Keyring;
  /** Timeout of one TCP exchange (connect + request + reply), ms. Default 5000. */
  streamTimeoutMs?: number;
  /** Seed of the member's random stream; default random. */
  seed?: number;
}

export interface AgentStats {
  /** Datagrams or stream messages no installed key could decrypt (or unencrypted ones while encryption is on). */
  decryptFailed: number;
  /** Datagrams larger than packetBytesMax plus the encryption overhead, dropped before decoding. */
  datagramsOversized: number;
  streamErrors: number;
  sendErrors: number;
}

export interface StatusReply {
  name: string;
  address: string;
  members: MemberView[];
  health: number;
  stats: SwimStats & AgentStats;
}

export class SwimAgent {
  readonly member: SwimMember;
  readonly agentStats: AgentStats = { decryptFailed: 0, datagramsOversized: 0, streamErrors: 0, sendErrors: 0 };
  private readonly clock = new RealClock();
  private readonly udp: dgram.Socket;
  private readonly tcp: net.Server;
  private readonly keyring: Keyring | undefined;
  private readonly streamTimeoutMs: number;
  private readonly listeners: ((e: SwimEvent) => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private closed = false;
  private readonly sockets = new Set<net.Socket>();

  private constructor(member: SwimMember, udp: dgram.Socket, tcp: net.Server, opts: SwimAgentOptions) {
    this.member = member;
    this.udp = udp;
    this.tcp = tcp;
    this.keyring = opts.keyring;
    this.streamTimeoutMs = opts.streamTimeoutMs ?? 5000;
    udp.on('message', (msg, rinfo) => this.onDatagram(msg, formatHostPort({ host: rinfo.address, port: rinfo.port })));
    udp.on('error', () => {
      this.agentStats.sendErrors++;
    });
    tcp.on('connection', (socket) => this.onConnection(socket));
  }

  static async start(opts: SwimAgentOptions): Promise<SwimAgent> {
    const config = opts.config ?? lanConfig();
    validateSwimConfig(config);
    const bind = parseHostPort(opts.bind ?? '127.0.0.1:7946', 'bind address');
    const { udp, tcp, port } = await bindBoth(bind);
    const advertise = opts.advertise ?? formatHostPort({ host: bind.host, port });
    parseHostPort(advertise, 'advertise address');
    const clock = new RealClock();
    let member: SwimMember;
    try {
      member = new SwimMember({
        name: opts.name,
        address: advertise,
        config,
        rng: createRng(opts.seed ?? randomInt(0, 2 ** 31)),
        nowMs: clock.now(),
        ...(opts.meta !== undefined ? { meta: opts.meta } : {}),
      });
    } catch (err) {
      udp.close();
      tcp.close();
      throw err;
    }
    const agent = new SwimAgent(member, udp, tcp, opts);
    agent.pump();
    return agent;
  }

  get address(): string {
    return this.member.address;
  }

  members(): MemberView[] {
    return this.member.membersView();
  }

  onEvent(listener: (e: SwimEvent) => void): void {
    this.listeners.push(listener);
  }

  status(): StatusReply {
    return {
      name: this.member.name,
      address: this.address,
      members: this.members(),
      health: this.member.healthScore,
      stats: { ...this.member.stats, ...this.agentStats },
    };
  }

  /**
   * Joins through the seeds (push-pull over TCP). Resolves with the number of seeds that
   * answered; rejects with a definite `unavailable` error naming each seed's failure when none did.
   */
  async join(seeds: readonly string[]): Promise<number> {
    for (const s of seeds) parseHostPort(s, 'seed address');
    const targets = seeds.filter((s) => s !== this.address);
    if (targets.length === 0) return 0;
    this.member.join(targets);
    const results = this.pump();
    const settled = await Promise.allSettled(results);
    let ok = 0;
    const failures: string[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') ok++;
      else failures.push(`${targets[i] ?? '?'} (${r.reason instanceof Error ? r.reason.message : String(r.reason)})`);
    });
    if (ok === 0) {
      throw new DefiniteError('unavailable', `could not join the cluster: no seed answered: ${failures.join('; ')}`);
    }
    return ok;
  }

  /** Graceful leave: broadcast `left`, keep running `propagateMs` so it spreads, then close. */
  async leave(propagateMs = 1000): Promise<void> {
    this.member.leave();
    this.pump();
    await new Promise((r) => setTimeout(r, propagateMs));
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
    await Promise.all([new Promise<void>((r) => this.udp.close(() => r())), new Promise<void>((r) => this.tcp.close(() => r()))]);
  }

  // ------------------------------------------------------------------ driving the member

  /** Drains outputs and events, re-arms the timer. Returns the stream exchanges started (for join). */
  private pump(): Promise<void>[] {
    if (this.closed) return [];
    const streams: Promise<void>[] = [];
    for (const out of this.member.drainOutgoing()) {
      if (out.channel === 'packet') this.sendDatagram(out.to, out.bytes);
      else {
        const p = this.exchange(out.to, out.bytes);
        p.catch(() => {
          this.agentStats.streamErrors++;
        });
        streams.push(p);
      }
    }
    for (const e of this.member.drainEvents()) for (const l of this.listeners) l(e);
    this.arm();
    return streams;
  }

  private arm(): void {
    const next = this.member.nextDeadlineMs();
    if (!Number.isFinite(next)) return;
    if (this.timer !== undefined && next >= this.timerAtMs) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAtMs = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAtMs = Number.POSITIVE_INFINITY;
        if (this.closed) return;
        this.member.tick(this.clock.now());
        this.pump();
      },
      Math.max(0, Math.ceil(next - this.clock.now())),
    );
  }

  private seal(bytes: Uint8Array): Uint8Array {
    return this.keyring === undefined ? bytes : this.keyring.seal(bytes);
  }

  /** Decrypts if a keyring is set; undefined (and counted) when it does not authenticate. */
  private unseal(bytes: Uint8Array): Uint8Array | undefined {
    if (this.keyring === undefined) return bytes;
    const plain = this.keyring.open(bytes);
    if (plain === undefined) this.agentStats.decryptFailed++;
    return plain;
  }

  private sendDatagram(to: string, bytes: Uint8Array): void {
    let hp: HostPort;
    try {
      hp = parseHostPort(to);
    } catch {
      this.agentStats.sendErrors++;
      return;
    }
    this.udp.send(this.seal(bytes), hp.port, hp.host, (err) => {
      if (err) this.agentStats.sendErrors++;
    });
  }

  private onDatagram(msg: Buffer, from: string): void {
    if (this.closed) return;
    if (msg.length > this.member.config.packetBytesMax + SEAL_OVERHEAD_BYTES) {
      this.agentStats.datagramsOversized++;
      return;
    }
    const plain = this.unseal(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if (plain === undefined) return;
    this.member.tick(this.clock.now());
    this.member.handlePacket(from, plain);
    this.pump();
  }

  // ------------------------------------------------------------------ TCP

  private streamBytesMax(): number {
    return this.member.config.streamBytesMax + SEAL_OVERHEAD_BYTES;
  }

  /** Connects to `to`, sends one framed member message, hands the framed reply to the member. */
  private exchange(to: string, bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let hp: HostPort;
      try {
        hp = parseHostPort(to);
      } catch (err) {
        reject(err);
        return;
      }
      const socket = net.connect({ host: hp.host, port: hp.port });
      this.sockets.add(socket);
      const reader = new FrameReader(this.streamBytesMax());
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.sockets.delete(socket);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`no answer within ${this.streamTimeoutMs} ms`)), this.streamTimeoutMs);
      socket.on('connect', () => {
        socket.write(Buffer.concat([Buffer.from([STREAM_MEMBER]), frame(this.seal(bytes))]));
      });
      socket.on('data', (chunk: Buffer) => {
        const r = reader.push(chunk);
        if (r === 'too-big') return finish(new Error('reply larger than streamBytesMax'));
        if (r === undefined) return;
        if (r.length > 0) {
          const plain = this.unseal(r);
          if (plain === undefined) return finish(new Error('reply did not decrypt with any installed key'));
          if (!this.closed) {
            this.member.tick(this.clock.now());
            this.member.handleStream(to, plain);
            this.pump();
          }
        }
        finish();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => finish(new Error(err.code !== undefined ? `${err.syscall ?? 'socket'} ${err.code}` : err.message)));
      socket.on('close', () => finish(new Error('connection closed before a reply')));
    });
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    const from = formatHostPort({ host: socket.remoteAddress ?? '0.0.0.0', port: socket.remotePort ?? 0 });
    const reader = new FrameReader(this.streamBytesMax());
    let kind: number | undefined;
    let handled = false;
    const end = (): void => {
      this.sockets.delete(socket);
      socket.destroy();
    };
    socket.setTimeout(this.streamTimeoutMs, end);
    socket.on('error', () => {
      this.agentStats.streamErrors++;
      end();
    });
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      // One request per connection: anything after it is ignored.
      if (handled) return;
      let data = chunk;
      if (kind === undefined) {
        kind = data[0];
        data = data.subarray(1);
        if (kind === STREAM_STATUS) {
          const remote = socket.remoteAddress ?? '';
          if (!isLoopback(remote)) {
            this.agentStats.streamErrors++;
            return end();
          }
          handled = true;
          socket.end(frame(new TextEncoder().encode(JSON.stringify(this.status()))));
          return;
        }
        if (kind !== STREAM_MEMBER) {
          this.agentStats.streamErrors++;
          return end();
        }
      }
      const r = reader.push(data);
      if (r === 'too-big') {
        this.member.stats.rejected.oversized++;
        return end();
      }
      if (r === undefined) return;
      handled = true;
      const plain = this.unseal(r);
      if (plain === undefined || this.closed) return end();
      this.member.tick(this.clock.now());
      const reply = this.member.handleStream(from, plain);
      this.pump();
      socket.end(frame(reply === undefined ? new Uint8Array(0) : this.seal(reply)));
    });
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function frame(bytes: Uint8Array): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([header, bytes]);
}

/** Accumulates one length-prefixed frame, bounded by `bytesMax`. */
class FrameReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private readonly bytesMax: number;
  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }
  push(chunk: Buffer): Uint8Array | undefined | 'too-big' {
    this.chunks.push(chunk);
    this.have += chunk.length;
    if (this.have < FRAME_HEADER_BYTES) return undefined;
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    this.chunks = [all];
    const len = all.readUInt32BE(0);
    if (len > this.bytesMax) return 'too-big';
    if (all.length < FRAME_HEADER_BYTES + len) return undefined;
    return new Uint8Array(all.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len));
  }
}

async function bindBoth(bind: HostPort): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  const attempts = bind.port === 0 ? 8 : 1;
  let lastErr: unknown;
  for (let i = 0; i < attempts; i++) {
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: bind.host, port: bind.port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      lastErr = err;
      continue;
    }
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket(net.isIPv6(bind.host) ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: bind.host, port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port };
    } catch (err) {
      lastErr = err;
      udp.close();
      await new Promise<void>((r) => tcp.close(() => r()));
    }
  }
  const code = (lastErr as NodeJS.ErrnoException | undefined)?.code ?? String(lastErr);
  throw new DefiniteError('unavailable', `cannot bind ${formatHostPort(bind)} (UDP and TCP): ${code}`);
}

/** Asks a running agent (loopback only) for its member list and stats. */
export function queryAgentStatus(agent: string, timeoutMs = 3000): Promise<StatusReply> {
  const hp = parseHostPort(agent, '--agent');
  return new Promise<StatusReply>((resolve, reject) => {
    const socket = net.connect({ host: hp.host, port: hp.port });
    const reader = new FrameReader(64 * 1024 * 1024);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DefiniteError('unavailable', `agent ${agent} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(Buffer.from([STREAM_STATUS])));
    socket.on('data', (chunk: Buffer) => {
      const r = reader.push(chunk);
      if (r === undefined) return;
      clearTimeout(timer);
      socket.destroy();
      if (r === 'too-big') return reject(new DefiniteError('unavailable', `agent ${agent} sent an oversized reply`));
      try {
        resolve(JSON.parse(new TextDecoder().decode(r)) as StatusReply);
      } catch {
        reject(new DefiniteError('unavailable', `agent ${agent} sent a malformed reply`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DefiniteError('unavailable', `cannot reach agent ${agent}: ${err.code ?? err.message}`));
    });
  });
}
