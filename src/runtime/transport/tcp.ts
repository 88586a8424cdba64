/**
 * The real peer transport: framed messages over TCP between the nodes of one cluster.
 *
 * - Framing and integrity: `frame.ts` (length prefix, CRC-32C, a maximum frame size). A bad
 *   checksum or an oversized frame drops the connection and is counted.
 * - Identity and authentication: `handshake.ts` (node id and cluster id on every connection;
 *   optional HMAC-SHA256 challenge-response with a cluster key and AES-256-GCM frames). Unknown
 *   peers, wrong clusters and wrong keys are refused with a logged reason.
 * - One outbound connection per peer, dialed on the first send; messages to a peer wait in a
 *   bounded queue (messages and bytes): when it is full `send` returns 'queue-full' and the drop
 *   is counted, so a slow or dead peer cannot exhaust memory. Raft tolerates lost messages.
 * - Batching: everything queued for a peer within one event-loop turn goes out in one socket
 *   write (at most `batchBytesMax`), and writing pauses while the socket buffer is full.
 * - Reconnect with exponential backoff and equal jitter, capped; reset by a good handshake.
 *
 * Deliberately left out: delivery guarantees (a message in flight when a connection breaks is
 * lost; the protocol above retransmits), ordering across reconnects, and TLS.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { randomInt } from 'node:crypto';
import { unreachable } from '../../core/assert.ts';
import { ConfigError } from '../../core/errors.ts';
import type { NodeId } from '../../core/ids.ts';
import { parseNodeId } from '../../core/ids.ts';
import { createRng, type Rng } from '../../core/rng.ts';
import type { MessageCodec } from './codec.ts';
import { type FrameDecodeError, encodeFrame, FRAME_HEADER_BYTES, type WireFrame, FrameDecoder, FrameKind, writeFrame } from './frame.ts';
import {
  decodeAuth,
  decodeChallenge,
  decodeHello,
  decodeReject,
  encodeJson,
  FrameSealer,
  frameKey,
  GCM_TAG_BYTES,
  HANDSHAKE_FRAME_BYTES_MAX,
  type Hello,
  newNonce,
  PROTOCOL_VERSION,
  proof,
  proofMatches,
} from './handshake.ts';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** pino-compatible subset. */
export interface TransportLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export type TransportEvent =
  | { readonly type: 'connected'; readonly peer: NodeId }
  | { readonly type: 'disconnected'; readonly peer: NodeId; readonly reason: string }
  | { readonly type: 'connect-failed'; readonly peer: NodeId; readonly reason: string }
  | { readonly type: 'inbound-accepted'; readonly peer: NodeId }
  | { readonly type: 'inbound-refused'; readonly peer: NodeId | undefined; readonly reason: string }
  | { readonly type: 'inbound-dropped'; readonly peer: NodeId | undefined; readonly reason: string }
  | { readonly type: 'inbound-closed'; readonly peer: NodeId };

export interface TcpTransportOptions<M> {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  readonly codec: MessageCodec<M>;
  /** Called for every message received from an accepted peer. */
  readonly onMessage: (from: NodeId, msg: M) => void;
  /** Known peers and where to dial them. Connections from any other node id are refused. */
  readonly peers?: Readonly<Record<NodeId, PeerAddress>>;
  /** Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Default 0 (any free port; read it back from `address`). */
  readonly listenPort?: number;
  /** Shared secret of the cluster (>= 16 bytes). With it, peers must prove they hold it. */
  readonly clusterKey?: Uint8Array;
  /** Encrypt data frames with AES-256-GCM (needs `clusterKey`). Default false. */
  readonly encrypt?: boolean;
  /** Largest frame body accepted or sent. Default 8 MiB. */
  readonly frameBytesMax?: number;
  /** Per-peer outbound queue limit in messages. Default 4096. */
  readonly queueMessagesMax?: number;
  /** Per-peer outbound queue limit in bytes. Default 32 MiB. */
  readonly queueBytesMax?: number;
  /** Most bytes handed to one socket write. Default 1 MiB. */
  readonly batchBytesMax?: number;
  /** First reconnect delay. Default 50 ms. */
  readonly backoffBaseMs?: number;
  /** Reconnect delay cap. Default 5000 ms. */
  readonly backoffMaxMs?: number;
  /** Connect plus handshake must finish within this. Default 5000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Open inbound connections (handshaking or established); more are closed at once. Default 1024. */
  readonly inboundConnectionsMax?: number;
  /** Jitter source. Default: seeded from crypto. */
  readonly rng?: Rng;
  /** Default: warnings to stderr. */
  readonly logger?: TransportLogger;
  /** Observer of connection events (tests, metrics, status pages). */
  readonly onEvent?: (event: TransportEvent) => void;
}

export const TRANSPORT_DEFAULTS = {
  listenHost: '127.0.0.1',
  listenPort: 0,
  frameBytesMax: 8 * 1024 * 1024,
  queueMessagesMax: 4096,
  queueBytesMax: 32 * 1024 * 1024,
  batchBytesMax: 1024 * 1024,
  backoffBaseMs: 50,
  backoffMaxMs: 5000,
  handshakeTimeoutMs: 5000,
  inboundConnectionsMax: 1024,
} as const;

export type PeerSendResult = 'queued' | 'queue-full' | 'too-large' | 'unknown-peer' | 'closed';

export interface TransportMetrics {
  messagesSent: number;
  bytesSent: number;
  /** Socket writes (each carries a batch of frames). */
  writeBatches: number;
  messagesReceived: number;
  bytesReceived: number;
  droppedQueueFull: number;
  droppedTooLarge: number;
  droppedUnknownPeer: number;
  /** Received messages the codec could not decode, or that the handler threw on. */
  decodeErrors: number;
  checksumFailures: number;
  oversizedFrames: number;
  protocolErrors: number;
  handshakesAccepted: number;
  handshakesRefused: number;
  /** Inbound connections closed at once because `inboundConnectionsMax` were open. */
  inboundOverLimit: number;
  refusedByPeer: number;
  authFailures: number;
  connectAttempts: number;
  connects: number;
  disconnects: number;
}

export type PeerLinkState = 'idle' | 'connecting' | 'handshaking' | 'ready' | 'backoff' | 'closed';

export interface PeerStatus {
  readonly address: PeerAddress;
  readonly state: PeerLinkState;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** Failed attempts since the last good handshake. */
  readonly attempts: number;
  readonly lastError: string | undefined;
  readonly inboundConnected: boolean;
}

/**
 * Reconnect delay after `attempt` consecutive failures (1-based): exponential from `baseMs`,
 * capped at `maxMs`, with equal jitter (half fixed, half uniform) so restarts do not synchronise.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, rng: Rng): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return exp / 2 + rng.float() * (exp / 2);
}

const stderrLogger: TransportLogger = {
  info: () => undefined,
  warn: (fields, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...fields })}\n`),
};

interface Link {
  readonly id: NodeId;
  address: PeerAddress;
  state: PeerLinkState;
  queue: Uint8Array[];
  queueHead: number;
  queuedBytes: number;
  attempts: number;
  lastError: string | undefined;
  socket: Socket | undefined;
  decoder: FrameDecoder | undefined;
  hello: Hello | undefined;
  listenerNonce: string | undefined;
  sealer: FrameSealer | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  flushScheduled: boolean;
}

interface Inbound {
  readonly socket: Socket;
  readonly decoder: FrameDecoder;
  readonly remote: string;
  state: 'hello' | 'auth' | 'ready' | 'closed';
  peer: NodeId | undefined;
  hello: Hello | undefined;
  listenerNonce: string | undefined;
  opener: FrameSealer | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new ConfigError(`transport ${name} must be an integer >= ${min}, got ${v}`);
}

export class TcpTransport<M> {
  readonly nodeId: NodeId;
  readonly clusterId: string;
  private readonly codec: MessageCodec<M>;
  private readonly onMessage: (from: NodeId, msg: M) => void;
  private readonly onEvent: ((e: TransportEvent) => void) | undefined;
  private readonly logger: TransportLogger;
  private readonly rng: Rng;
  private readonly key: Uint8Array | undefined;
  private readonly encrypt: boolean;
  private readonly cfg: {
    listenHost: string;
    listenPort: number;
    frameBytesMax: number;
    queueMessagesMax: number;
    queueBytesMax: number;
    batchBytesMax: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    handshakeTimeoutMs: number;
    inboundConnectionsMax: number;
  };
  private readonly links = new Map<NodeId, Link>();
  private readonly inbound = new Set<Inbound>();
  private readonly inboundByPeer = new Map<NodeId, Inbound>();
  private server: Server | undefined;
  private bound: PeerAddress | undefined;
  private closed = false;
  private readonly counters: TransportMetrics = {
    messagesSent: 0,
    bytesSent: 0,
    writeBatches: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    droppedQueueFull: 0,
    droppedTooLarge: 0,
    droppedUnknownPeer: 0,
    decodeErrors: 0,
    checksumFailures: 0,
    oversizedFrames: 0,
    protocolErrors: 0,
    handshakesAccepted: 0,
    handshakesRefused: 0,
    inboundOverLimit: 0,
    refusedByPeer: 0,
    authFailures: 0,
    connectAttempts: 0,
    connects: 0,
    disconnects: 0,
  };

  constructor(opts: TcpTransportOptions<M>) {
    this.nodeId = parseNodeId(opts.nodeId);
    if (!/^[\x21-\x7e]{1,128}$/.test(opts.clusterId)) {
      throw new ConfigError(`cluster id ${JSON.stringify(opts.clusterId)} must be 1-128 printable ASCII characters`);
    }
    this.clusterId = opts.clusterId;
    this.codec = opts.codec;
    this.onMessage = opts.onMessage;
    this.onEvent = opts.onEvent;
    this.logger = opts.logger ?? stderrLogger;
    this.rng = opts.rng ?? createRng(randomInt(2 ** 47));
    this.cfg = {
      listenHost: opts.listenHost ?? TRANSPORT_DEFAULTS.listenHost,
      listenPort: opts.listenPort ?? TRANSPORT_DEFAULTS.listenPort,
      frameBytesMax: opts.frameBytesMax ?? TRANSPORT_DEFAULTS.frameBytesMax,
      queueMessagesMax: opts.queueMessagesMax ?? TRANSPORT_DEFAULTS.queueMessagesMax,
      queueBytesMax: opts.queueBytesMax ?? TRANSPORT_DEFAULTS.queueBytesMax,
      batchBytesMax: opts.batchBytesMax ?? TRANSPORT_DEFAULTS.batchBytesMax,
      backoffBaseMs: opts.backoffBaseMs ?? TRANSPORT_DEFAULTS.backoffBaseMs,
      backoffMaxMs: opts.backoffMaxMs ?? TRANSPORT_DEFAULTS.backoffMaxMs,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? TRANSPORT_DEFAULTS.handshakeTimeoutMs,
      inboundConnectionsMax: opts.inboundConnectionsMax ?? TRANSPORT_DEFAULTS.inboundConnectionsMax,
    };
    const c = this.cfg;
    checkInt('listenPort', c.listenPort, 0);
    if (c.listenPort > 65535) throw new ConfigError(`transport listenPort must be <= 65535, got ${c.listenPort}`);
    checkInt('frameBytesMax', c.frameBytesMax, 1024);
    if (c.frameBytesMax > 0xffff_ffff) throw new ConfigError('transport frameBytesMax must be < 4 GiB');
    checkInt('queueMessagesMax', c.queueMessagesMax, 1);
    checkInt('queueBytesMax', c.queueBytesMax, c.frameBytesMax);
    checkInt('batchBytesMax', c.batchBytesMax, 1);
    checkInt('backoffBaseMs', c.backoffBaseMs, 1);
    checkInt('backoffMaxMs', c.backoffMaxMs, c.backoffBaseMs);
    checkInt('handshakeTimeoutMs', c.handshakeTimeoutMs, 1);
    checkInt('inboundConnectionsMax', c.inboundConnectionsMax, 1);
    if (opts.clusterKey !== undefined && opts.clusterKey.length < 16) {
      throw new ConfigError(`cluster key must be at least 16 bytes, got ${opts.clusterKey.length}`);
    }
    if (opts.encrypt === true && opts.clusterKey === undefined) {
      throw new ConfigError('frame encryption needs a cluster key');
    }
    this.key = opts.clusterKey === undefined ? undefined : Uint8Array.from(opts.clusterKey);
    this.encrypt = opts.encrypt ?? false;
    for (const [id, addr] of Object.entries(opts.peers ?? {})) this.setPeer(id, addr);
  }

  /** Starts listening; resolves with the bound address (the real port when 0 was asked). */
  async start(): Promise<PeerAddress> {
    if (this.server !== undefined) throw new Error('transport already started');
    const server = createServer((sock) => this.acceptInbound(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.listenPort, this.cfg.listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('transport server has no TCP address');
    this.bound = { host: a.address, port: a.port };
    return this.bound;
  }

  get address(): PeerAddress | undefined {
    return this.bound;
  }

  /** Adds a peer or changes its address (an open connection to the old address is dropped). */
  setPeer(id: NodeId, address: PeerAddress): void {
    parseNodeId(id, 'peer id');
    if (id === this.nodeId) return;
    const link = this.links.get(id);
    if (link === undefined) {
      this.links.set(id, {
        id,
        address,
        state: 'idle',
        queue: [],
        queueHead: 0,
        queuedBytes: 0,
        attempts: 0,
        lastError: undefined,
        socket: undefined,
        decoder: undefined,
        hello: undefined,
        listenerNonce: undefined,
        sealer: undefined,
        timer: undefined,
        flushScheduled: false,
      });
      return;
    }
    if (link.address.host !== address.host || link.address.port !== address.port) {
      link.address = address;
      const sock = link.socket;
      if (sock !== undefined) {
        // Leave the old connection now, not when its close event arrives: until then `send`
        // would still write into it.
        link.lastError = 'peer address changed';
        sock.destroy();
        this.onLinkClosed(link, sock);
      }
    }
  }

  /** Forgets a peer: drops its queue and connections, and refuses it from now on. */
  removePeer(id: NodeId): void {
    const link = this.links.get(id);
    if (link !== undefined) {
      this.shutLink(link);
      this.links.delete(id);
    }
    this.inboundByPeer.get(id)?.socket.destroy();
  }

  peers(): NodeId[] {
    return [...this.links.keys()];
  }

  /**
   * Queues a message for `to`. Never blocks and never throws for a full queue: the result says
   * whether the message was queued or dropped (and drops are counted).
   */
  send(to: NodeId, msg: M): PeerSendResult {
    if (this.closed) return 'closed';
    const link = this.links.get(to);
    if (link === undefined) {
      this.counters.droppedUnknownPeer++;
      return 'unknown-peer';
    }
    const bytes = this.codec.encode(msg);
    if (bytes.length + (this.encrypt ? GCM_TAG_BYTES + SEALED_LENGTH_BYTES : 0) > this.cfg.frameBytesMax) {
      this.counters.droppedTooLarge++;
      return 'too-large';
    }
    const queued = link.queue.length - link.queueHead;
    if (queued >= this.cfg.queueMessagesMax || link.queuedBytes + bytes.length > this.cfg.queueBytesMax) {
      this.counters.droppedQueueFull++;
      return 'queue-full';
    }
    link.queue.push(bytes);
    link.queuedBytes += bytes.length;
    if (link.state === 'idle') this.dial(link);
    else if (link.state === 'ready') this.scheduleFlush(link);
    return 'queued';
  }

  metrics(): TransportMetrics {
    return { ...this.counters };
  }

  peerStatus(id: NodeId): PeerStatus | undefined {
    const link = this.links.get(id);
    if (link === undefined) return undefined;
    return {
      address: link.address,
      state: link.state,
      queuedMessages: link.queue.length - link.queueHead,
      queuedBytes: link.queuedBytes,
      attempts: link.attempts,
      lastError: link.lastError,
      inboundConnected: this.inboundByPeer.has(id),
    };
  }

  /** Stops listening and drops every connection and queue. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) this.shutLink(link);
    for (const conn of this.inbound) {
      if (conn.timer !== undefined) clearTimeout(conn.timer);
      conn.socket.destroy();
    }
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- outbound -------------------------------------------------------------------------

  private shutLink(link: Link): void {
    link.state = 'closed';
    if (link.timer !== undefined) clearTimeout(link.timer);
    link.timer = undefined;
    link.queue = [];
    link.queueHead = 0;
    link.queuedBytes = 0;
    link.socket?.destroy();
    link.socket = undefined;
  }

  private emit(e: TransportEvent): void {
    this.onEvent?.(e);
  }

  private dial(link: Link): void {
    link.state = 'connecting';
    this.counters.connectAttempts++;
    const sock = tcpConnect({ host: link.address.host, port: link.address.port });
    sock.setNoDelay(true);
    link.socket = sock;
    link.decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
    link.hello = undefined;
    link.listenerNonce = undefined;
    link.sealer = undefined;
    link.timer = setTimeout(() => this.failLink(link, sock, 'connect/handshake timeout'), this.cfg.handshakeTimeoutMs);
    sock.on('connect', () => {
      if (link.socket !== sock) return;
      link.state = 'handshaking';
      const hello: Hello = {
        v: PROTOCOL_VERSION,
        cluster: this.clusterId,
        from: this.nodeId,
        to: link.id,
        nonce: newNonce(),
        encrypt: this.encrypt,
      };
      link.hello = hello;
      sock.write(encodeFrame(FrameKind.hello, encodeJson(hello)));
    });
    sock.on('data', (chunk: Buffer) => this.onLinkData(link, sock, chunk));
    sock.on('drain', () => {
      if (link.socket === sock) this.scheduleFlush(link);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (link.socket === sock && link.lastError === undefined) link.lastError = err.code ?? err.message;
    });
    sock.on('close', () => this.onLinkClosed(link, sock));
  }

  private failLink(link: Link, sock: Socket, reason: string): void {
    if (link.socket !== sock) return;
    link.lastError = reason;
    this.logger.warn({ peer: link.id, address: `${link.address.host}:${link.address.port}`, reason }, 'peer connection failed');
    sock.destroy();
  }

  private onLinkData(link: Link, sock: Socket, chunk: Buffer): void {
    if (link.socket !== sock || link.decoder === undefined) return;
    const { frames, error } = link.decoder.push(chunk);
    for (const f of frames) {
      if (link.socket !== sock) return;
      this.handleLinkFrame(link, sock, f);
    }
    if (error !== undefined && link.socket === sock) {
      this.countDecodeError(error);
      this.failLink(link, sock, `bad frame from listener: ${describeDecodeError(error)}`);
    }
  }

  private handleLinkFrame(link: Link, sock: Socket, f: WireFrame): void {
    const hello = link.hello;
    if (link.state !== 'handshaking' || hello === undefined) {
      this.counters.protocolErrors++;
      this.failLink(link, sock, `unexpected frame kind ${f.kind} from listener in state ${link.state}`);
      return;
    }
    switch (f.kind) {
      case FrameKind.reject: {
        const { reason } = decodeReject(f.body);
        this.counters.refusedByPeer++;
        this.failLink(link, sock, `refused by peer: ${reason}`);
        return;
      }
      case FrameKind.challenge: {
        const ch = decodeChallenge(f.body);
        if (ch === undefined || link.listenerNonce !== undefined) {
          this.counters.protocolErrors++;
          this.failLink(link, sock, 'malformed or repeated challenge');
          return;
        }
        if (this.key === undefined) {
          this.counters.authFailures++;
          this.failLink(link, sock, 'peer requires a cluster key, but this node has none configured');
          return;
        }
        if (!proofMatches(proof(this.key, 'L', hello, ch.nonce), ch.proof)) {
          this.counters.authFailures++;
          this.failLink(link, sock, 'peer failed to prove the cluster key (wrong key?)');
          return;
        }
        link.listenerNonce = ch.nonce;
        sock.write(encodeFrame(FrameKind.auth, encodeJson({ proof: proof(this.key, 'D', hello, ch.nonce) })));
        return;
      }
      case FrameKind.welcome: {
        if (this.key !== undefined && link.listenerNonce === undefined) {
          this.counters.authFailures++;
          this.failLink(link, sock, 'peer accepted without authenticating, but this node requires a cluster key');
          return;
        }
        if (link.timer !== undefined) clearTimeout(link.timer);
        link.timer = undefined;
        link.state = 'ready';
        link.attempts = 0;
        link.lastError = undefined;
        if (this.encrypt && this.key !== undefined && link.listenerNonce !== undefined) {
          link.sealer = new FrameSealer(frameKey(this.key, hello, link.listenerNonce));
        }
        link.decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
        this.counters.connects++;
        this.logger.info({ peer: link.id }, 'peer connected');
        this.emit({ type: 'connected', peer: link.id });
        this.scheduleFlush(link);
        return;
      }
      case FrameKind.hello:
      case FrameKind.auth:
      case FrameKind.data:
        this.counters.protocolErrors++;
        this.failLink(link, sock, `unexpected frame kind ${f.kind} from listener`);
        return;
      default:
        this.counters.protocolErrors++;
        this.failLink(link, sock, `unknown frame kind ${String(f.kind)}`);
    }
  }

  private onLinkClosed(link: Link, sock: Socket): void {
    if (link.socket !== sock) return;
    link.socket = undefined;
    link.sealer = undefined;
    if (link.timer !== undefined) clearTimeout(link.timer);
    link.timer = undefined;
    if (link.state === 'closed') return;
    const reason = link.lastError ?? 'connection closed';
    if (link.state === 'ready') {
      this.counters.disconnects++;
      this.emit({ type: 'disconnected', peer: link.id, reason });
    } else {
      this.emit({ type: 'connect-failed', peer: link.id, reason });
    }
    link.attempts++;
    const delayMs = backoffDelayMs(link.attempts, this.cfg.backoffBaseMs, this.cfg.backoffMaxMs, this.rng);
    link.state = 'backoff';
    link.timer = setTimeout(() => {
      link.timer = undefined;
      if (link.state !== 'backoff') return;
      link.lastError = undefined;
      if (link.queue.length - link.queueHead > 0) this.dial(link);
      else link.state = 'idle';
    }, delayMs);
  }

  private scheduleFlush(link: Link): void {
    if (link.flushScheduled || link.state !== 'ready') return;
    link.flushScheduled = true;
    setImmediate(() => {
      link.flushScheduled = false;
      this.flush(link);
    });
  }

  /** Writes the queued messages of one link as one batch of frames in one socket write. */
  private flush(link: Link): void {
    const sock = link.socket;
    if (link.state !== 'ready' || sock === undefined || sock.writableNeedDrain) return;
    const buf = link.sealer === undefined ? this.takePlainBatch(link) : this.takeSealedBatch(link, link.sealer);
    if (link.queueHead === link.queue.length) {
      link.queue = [];
      link.queueHead = 0;
    } else if (link.queueHead > 1024 && link.queueHead * 2 > link.queue.length) {
      link.queue = link.queue.slice(link.queueHead);
      link.queueHead = 0;
    }
    if (buf === undefined) return;
    const more = sock.write(buf);
    this.counters.bytesSent += buf.length;
    this.counters.writeBatches++;
    if (more && link.queueHead < link.queue.length) this.scheduleFlush(link);
  }

  private takeMessage(link: Link): Uint8Array {
    const msg = link.queue[link.queueHead]!;
    link.queue[link.queueHead] = EMPTY;
    link.queueHead++;
    link.queuedBytes -= msg.length;
    this.counters.messagesSent++;
    return msg;
  }

  /** Plain links: one frame per message, as many frames as fit in `batchBytesMax`. */
  private takePlainBatch(link: Link): Buffer | undefined {
    const bodies: Uint8Array[] = [];
    let total = 0;
    while (link.queueHead < link.queue.length && (bodies.length === 0 || total < this.cfg.batchBytesMax)) {
      const msg = this.takeMessage(link);
      bodies.push(msg);
      total += FRAME_HEADER_BYTES + msg.length;
    }
    if (bodies.length === 0) return undefined;
    const buf = Buffer.allocUnsafe(total);
    let at = 0;
    for (const b of bodies) at = writeFrame(buf, at, FrameKind.data, b);
    return buf;
  }

  /**
   * Encrypted links: the batch is ONE frame whose sealed body holds length-prefixed messages
   * (a cipher setup per message would cost more than the encryption itself).
   */
  private takeSealedBatch(link: Link, sealer: FrameSealer): Buffer | undefined {
    const parts: Uint8Array[] = [];
    let inner = 0;
    while (link.queueHead < link.queue.length) {
      const need = SEALED_LENGTH_BYTES + link.queue[link.queueHead]!.length;
      const fits = inner + need + GCM_TAG_BYTES <= this.cfg.frameBytesMax && inner < this.cfg.batchBytesMax;
      if (parts.length > 0 && !fits) break;
      parts.push(this.takeMessage(link));
      inner += need;
    }
    if (parts.length === 0) return undefined;
    const plain = Buffer.allocUnsafe(inner);
    let at = 0;
    for (const p of parts) {
      plain.writeUInt32BE(p.length, at);
      plain.set(p, at + SEALED_LENGTH_BYTES);
      at += SEALED_LENGTH_BYTES + p.length;
    }
    return Buffer.from(encodeFrame(FrameKind.data, sealer.seal(plain)));
  }

  // ---- inbound --------------------------------------------------------------------------

  private acceptInbound(sock: Socket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    if (this.inbound.size >= this.cfg.inboundConnectionsMax) {
      this.counters.inboundOverLimit++;
      this.logger.warn(
        { remote: `${sock.remoteAddress}:${sock.remotePort}`, reason: `${this.inbound.size} inbound connections open (limit ${this.cfg.inboundConnectionsMax})` },
        'refused peer connection',
      );
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    const conn: Inbound = {
      socket: sock,
      decoder: new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX),
      remote: `${sock.remoteAddress}:${sock.remotePort}`,
      state: 'hello',
      peer: undefined,
      hello: undefined,
      listenerNonce: undefined,
      opener: undefined,
      timer: undefined,
    };
    this.inbound.add(conn);
    conn.timer = setTimeout(() => this.refuse(conn, 'handshake timeout'), this.cfg.handshakeTimeoutMs);
    sock.on('data', (chunk: Buffer) => this.onInboundData(conn, chunk));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.inbound.delete(conn);
      if (conn.timer !== undefined) clearTimeout(conn.timer);
      const wasReady = conn.state === 'ready';
      conn.state = 'closed';
      if (conn.peer !== undefined && this.inboundByPeer.get(conn.peer) === conn) {
        this.inboundByPeer.delete(conn.peer);
        if (wasReady) this.emit({ type: 'inbound-closed', peer: conn.peer });
      }
    });
  }

  private onInboundData(conn: Inbound, chunk: Buffer): void {
    if (conn.state === 'closed') return;
    this.counters.bytesReceived += chunk.length;
    const { frames, error } = conn.decoder.push(chunk);
    for (const f of frames) {
      if (isClosed(conn)) return;
      this.handleInboundFrame(conn, f);
    }
    if (error !== undefined && !isClosed(conn)) {
      this.countDecodeError(error);
      this.dropInbound(conn, describeDecodeError(error));
    }
  }

  private countDecodeError(error: FrameDecodeError): void {
    switch (error.kind) {
      case 'checksum':
        this.counters.checksumFailures++;
        return;
      case 'oversized':
        this.counters.oversizedFrames++;
        return;
      case 'unknown-kind':
        this.counters.protocolErrors++;
        return;
      default:
        unreachable(error, 'decode error');
    }
  }

  /** Drops an established (or half-established) connection because its stream is broken. */
  private dropInbound(conn: Inbound, reason: string): undefined {
    this.logger.warn({ peer: conn.peer, remote: conn.remote, reason }, 'dropped peer connection');
    this.emit({ type: 'inbound-dropped', peer: conn.peer, reason });
    conn.state = 'closed';
    conn.socket.destroy();
  }

  /** Refuses a handshake: tells the dialer why, logs it, closes. */
  private refuse(conn: Inbound, reason: string): undefined {
    if (conn.state === 'closed') return;
    this.counters.handshakesRefused++;
    const peer = conn.hello?.from;
    this.logger.warn({ peer, remote: conn.remote, reason }, 'refused peer connection');
    this.emit({ type: 'inbound-refused', peer, reason });
    conn.state = 'closed';
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    conn.socket.end(encodeFrame(FrameKind.reject, encodeJson({ reason })));
    // Do not wait for a dialer that never closes its side.
    conn.timer = setTimeout(() => conn.socket.destroy(), 1000);
    conn.timer.unref();
  }

  private handleInboundFrame(conn: Inbound, f: WireFrame): undefined {
    switch (conn.state) {
      case 'hello': {
        if (f.kind !== FrameKind.hello) return this.refuse(conn, `expected hello, got frame kind ${f.kind}`);
        const hello = decodeHello(f.body);
        if (hello === undefined) return this.refuse(conn, 'malformed hello');
        conn.hello = hello;
        if (hello.v !== PROTOCOL_VERSION) {
          return this.refuse(conn, `protocol version ${hello.v} not supported (this node speaks ${PROTOCOL_VERSION})`);
        }
        if (hello.cluster !== this.clusterId) {
          return this.refuse(conn, `wrong cluster ${JSON.stringify(hello.cluster)} (this node is in ${JSON.stringify(this.clusterId)})`);
        }
        if (hello.to !== this.nodeId) {
          return this.refuse(conn, `this node is ${JSON.stringify(this.nodeId)}, not ${JSON.stringify(hello.to)}`);
        }
        const link = this.links.get(hello.from);
        if (link === undefined || link.state === 'closed') {
          return this.refuse(conn, `unknown peer ${JSON.stringify(hello.from)}`);
        }
        if (hello.encrypt !== this.encrypt) {
          return this.refuse(conn, `frame encryption setting differs (peer ${hello.encrypt ? 'on' : 'off'}, this node ${this.encrypt ? 'on' : 'off'})`);
        }
        if (this.key === undefined) return this.acceptReady(conn, hello);
        const nonce = newNonce();
        conn.listenerNonce = nonce;
        conn.state = 'auth';
        conn.socket.write(encodeFrame(FrameKind.challenge, encodeJson({ nonce, proof: proof(this.key, 'L', hello, nonce) })));
        return;
      }
      case 'auth': {
        const hello = conn.hello;
        if (f.kind !== FrameKind.auth || hello === undefined || conn.listenerNonce === undefined || this.key === undefined) {
          return this.refuse(conn, `expected auth, got frame kind ${f.kind}`);
        }
        const auth = decodeAuth(f.body);
        if (auth === undefined || !proofMatches(proof(this.key, 'D', hello, conn.listenerNonce), auth.proof)) {
          this.counters.authFailures++;
          return this.refuse(conn, 'authentication failed: wrong cluster key');
        }
        if (this.encrypt) conn.opener = new FrameSealer(frameKey(this.key, hello, conn.listenerNonce));
        return this.acceptReady(conn, hello);
      }
      case 'ready': {
        const from = conn.peer!;
        if (f.kind !== FrameKind.data) {
          this.counters.protocolErrors++;
          return this.dropInbound(conn, `unexpected frame kind ${f.kind} after the handshake`);
        }
        if (conn.opener === undefined) {
          this.deliver(from, f.body);
          return;
        }
        const plain = conn.opener.open(f.body);
        if (plain === undefined) {
          this.counters.authFailures++;
          return this.dropInbound(conn, 'frame failed authenticated decryption');
        }
        const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
        let at = 0;
        while (at < plain.length) {
          const n = at + SEALED_LENGTH_BYTES <= plain.length ? view.getUint32(at) : Number.POSITIVE_INFINITY;
          if (at + SEALED_LENGTH_BYTES + n > plain.length) {
            this.counters.protocolErrors++;
            return this.dropInbound(conn, 'malformed sealed batch');
          }
          this.deliver(from, plain.subarray(at + SEALED_LENGTH_BYTES, at + SEALED_LENGTH_BYTES + n));
          at += SEALED_LENGTH_BYTES + n;
        }
        return;
      }
      case 'closed':
        return;
      default:
        return unreachable(conn.state, 'inbound state');
    }
  }

  /** Decodes one received message and hands it to the host. */
  private deliver(from: NodeId, body: Uint8Array): void {
    this.counters.messagesReceived++;
    let msg: M;
    try {
      msg = this.codec.decode(body);
    } catch (err) {
      this.counters.decodeErrors++;
      this.logger.warn({ peer: from, reason: String(err) }, 'dropped undecodable message');
      return;
    }
    try {
      this.onMessage(from, msg);
    } catch (err) {
      this.counters.decodeErrors++;
      this.logger.warn({ peer: from, reason: String(err) }, 'message handler threw');
    }
  }

  private acceptReady(conn: Inbound, hello: Hello): undefined {
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    conn.timer = undefined;
    conn.state = 'ready';
    conn.peer = hello.from;
    conn.decoder.bodyBytesMax = this.cfg.frameBytesMax;
    // A newer connection from the same peer replaces the old one (the peer restarted or redialed).
    const prior = this.inboundByPeer.get(hello.from);
    if (prior !== undefined) {
      prior.state = 'closed';
      prior.socket.destroy();
    }
    this.inboundByPeer.set(hello.from, conn);
    this.counters.handshakesAccepted++;
    conn.socket.write(encodeFrame(FrameKind.welcome, encodeJson({})));
    this.logger.info({ peer: hello.from, remote: conn.remote }, 'accepted peer connection');
    this.emit({ type: 'inbound-accepted', peer: hello.from });
  }
}

const EMPTY = new Uint8Array(0);
/** Length prefix of each message inside a sealed batch. */
const SEALED_LENGTH_BYTES = 4;

function describeDecodeError(e: FrameDecodeError): string {
  switch (e.kind) {
    case 'checksum':
      return `frame checksum mismatch (frame kind ${e.frameKind})`;
    case 'oversized':
      return `frame of ${e.bodyBytes} bytes exceeds the limit of ${e.limitBytes}`;
    case 'unknown-kind':
      return `unknown frame kind ${e.frameKind}`;
    default:
      return unreachable(e, 'decode error');
  }
}

/** Re-reads the state (a handler may have closed the connection). */
function isClosed(conn: Inbound): boolean {
  return conn.state === 'closed';
}
