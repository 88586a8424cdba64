/**
 * The client HTTP API of a KV node, shaped like etcd's v3 JSON gateway (see gateway.ts for the
 * bodies): POST /v3/kv/{put,range,deleterange,txn}, /v3/lease/{grant,revoke,keepalive,timetolive},
 * /v3/watch (a stream of newline-delimited JSON objects `{"result": ...}`, as etcd's gateway),
 * /v3/cluster/member/{list,add,remove,promote}, /v3/maintenance/{status,hashkv}; GET /health and
 * GET /metrics (Prometheus text format, prom-client).
 *
 * Every node serves every call: a follower hands writes to the leader through Raft's proposal
 * forwarding and answers when the write is applied locally, and serves linearizable reads after
 * a ReadIndex round with the leader (no redirects, so clients need only one endpoint).
 *
 * Errors are etcd-style bodies `{"error", "code", "message"}` with gRPC status codes, plus
 * `"definite"`: true when the request certainly did not take effect. Malformed JSON or base64,
 * unknown fields or paths, and bodies over `bodyBytesMax` (1.5 MiB, etcd's default
 * --max-request-bytes) are refused with 400/413 and a message; the node keeps serving. A write
 * without a quorum fails after a bounded wait (no leader: definite 503; timeout: indefinite 504).
 *
 * Client de-duplication: send `x-clusterkit-client-id` and `x-clusterkit-seq` headers; a retry
 * with the same pair returns the first result without applying the request again.
 *
 * Leaves out: TLS, auth, gRPC, etcd's /v3/kv/compaction and alarms.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ClusterkitError, InvalidArgumentError } from '../core/errors.ts';
import { KvError } from '../kv/errors.ts';
import { type KvNode, numericId } from '../kv/node.ts';
import type { ClientTag, KvCommand, KvResponse, KvResult, ResponseOp } from '../kv/types.ts';
import {
  deleteJson,
  eventJson,
  Fields,
  type GatewayHeader,
  type Json,
  parseDeleteRange,
  parsePut,
  parseRange,
  parseTxn,
  parseWatchCreate,
  putJson,
  rangeJson,
  responseOpJson,
} from './gateway.ts';

export interface KvHttpOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest request body. Default 1.5 MiB (etcd's --max-request-bytes). */
  bodyBytesMax?: number;
  /** Open watch streams at most. Default 1000. */
  watchStreamsMax?: number;
}

const GRPC = { ok: 0, unknown: 2, invalidArgument: 3, deadlineExceeded: 4, notFound: 5, alreadyExists: 6, resourceExhausted: 8, failedPrecondition: 9, outOfRange: 11, unimplemented: 12, internal: 13, unavailable: 14 } as const;

const HTTP_OF_GRPC: Record<number, number> = { 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 8: 429, 9: 412, 11: 400, 12: 501, 13: 500, 14: 503 };

class HttpError extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
    readonly definite: boolean,
    readonly httpStatus = HTTP_OF_GRPC[grpcCode] ?? 500,
  ) {
    super(message);
  }
}

function errorOf(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof KvError) {
    const code =
      err.kvCode === 'compacted' || err.kvCode === 'future-revision'
        ? GRPC.outOfRange
        : err.kvCode === 'key-not-found' || err.kvCode === 'lease-not-found'
          ? GRPC.notFound
          : err.kvCode === 'lease-exists'
            ? GRPC.alreadyExists
            : err.kvCode === 'quota-exceeded'
              ? GRPC.resourceExhausted
              : err.kvCode === 'stale-request'
                ? GRPC.failedPrecondition
                : GRPC.invalidArgument;
    return new HttpError(code, err.message, true);
  }
  if (err instanceof ClusterkitError) {
    const code = (() => {
      switch (err.code) {
        case 'invalid-argument':
        case 'config':
          return GRPC.invalidArgument;
        case 'timeout':
          return GRPC.deadlineExceeded;
        case 'not-found':
          return GRPC.notFound;
        case 'overloaded':
          return GRPC.resourceExhausted;
        case 'conflict':
          return GRPC.alreadyExists;
        case 'precondition-failed':
        case 'removed':
          return GRPC.failedPrecondition;
        case 'corruption':
          return GRPC.internal;
        case 'crash':
        case 'not-leader':
        case 'no-leader':
        case 'unavailable':
        case 'closed':
          return GRPC.unavailable;
        default:
          return GRPC.unknown;
      }
    })();
    return new HttpError(code, err.message, err.definite);
  }
  return new HttpError(GRPC.internal, `internal error: ${err instanceof Error ? err.message : String(err)}`, false);
}

function resultOrThrow(r: KvResult): KvResponse {
  if (r.ok) return r.response;
  if (r.error.code === 'invalid-argument') throw new InvalidArgumentError(r.error.message);
  throw new KvError(r.error.code, r.error.message);
}

export class KvHttpServer {
  readonly node: KvNode;
  private readonly server: Server;
  private readonly opts: Required<KvHttpOptions>;
  readonly registry = new Registry();
  private readonly requests: Counter<'path' | 'code'>;
  private readonly latency: Histogram<'path'>;
  private readonly streams = new Set<ServerResponse>();
  private boundPort = 0;

  constructor(node: KvNode, opts: KvHttpOptions = {}) {
    this.node = node;
    this.opts = { host: '127.0.0.1', port: 0, bodyBytesMax: 1.5 * 1024 * 1024, watchStreamsMax: 1000, ...opts };
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
    collectDefaultMetrics({ register: this.registry, prefix: 'clusterkit_' });
    this.requests = new Counter({ name: 'clusterkit_http_requests_total', help: 'HTTP requests by path and status', labelNames: ['path', 'code'], registers: [this.registry] });
    this.latency = new Histogram({
      name: 'clusterkit_http_request_seconds',
      help: 'HTTP request latency by path',
      labelNames: ['path'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [this.registry],
    });
    const st = () => node.status();
    const gauge = (name: string, help: string, f: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(f());
        },
      });
    gauge('clusterkit_raft_term', 'Current Raft term', () => st().term);
    gauge('clusterkit_raft_is_leader', '1 if this node is the leader', () => (st().role === 'leader' ? 1 : 0));
    gauge('clusterkit_raft_commit_index', 'Raft commit index', () => st().commit);
    gauge('clusterkit_raft_applied_index', 'Last applied log index', () => st().applied);
    gauge('clusterkit_raft_snapshot_index', 'Index of the latest snapshot', () => st().snapshotIndex);
    gauge('clusterkit_kv_revision', 'KV store revision', () => st().revision);
    gauge('clusterkit_wal_fsyncs_total', 'WAL fdatasync calls', () => st().walSyncs);
    gauge('clusterkit_wal_segments', 'WAL segment files', () => st().walSegments);
    gauge('clusterkit_pending_proposals', 'Proposals waiting to be applied on this node', () => st().pendingProposals);
    gauge('clusterkit_raft_leader_changes_total', 'Leader changes seen', () => node.counters.leaderChanges);
    gauge('clusterkit_read_index_rounds_total', 'ReadIndex rounds (each serves a batch of linearizable reads)', () => node.counters.readRounds);
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('HTTP server has no TCP address');
    this.boundPort = a.port;
    return { host: a.address, port: a.port };
  }

  get url(): string {
    return `http://${this.opts.host}:${this.boundPort}`;
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private header(revision: number): GatewayHeader {
    return {
      cluster_id: this.node.clusterIdNumeric,
      member_id: this.node.memberId,
      revision: String(revision),
      raft_term: String(this.node.raftTerm),
    };
  }

  private send(res: ServerResponse, status: number, body: Json | string, contentType = 'application/json'): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private sendError(res: ServerResponse, e: HttpError): void {
    this.send(res, e.httpStatus, { error: e.message, code: e.grpcCode, message: e.message, definite: e.definite });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const started = performance.now();
    res.on('finish', () => {
      const label = ROUTES.has(path) || path === '/health' || path === '/metrics' || path === '/v3/watch' ? path : 'other';
      this.requests.inc({ path: label, code: String(res.statusCode) });
      this.latency.observe({ path: label }, (performance.now() - started) / 1000);
    });
    if (req.method === 'GET' && (path === '/health' || path === '/health/')) {
      this.health(res);
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      this.registry.metrics().then(
        (text) => this.send(res, 200, text, this.registry.contentType),
        (err: unknown) => this.sendError(res, errorOf(err)),
      );
      return;
    }
    const route = ROUTES.get(path);
    if (route === undefined && path !== '/v3/watch') {
      req.resume();
      this.sendError(res, new HttpError(GRPC.invalidArgument, `unknown path ${JSON.stringify(path)}; see the API table in docs/kv.md (POST /v3/kv/put, /v3/kv/range, ...)`, true, 400));
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      this.sendError(res, new HttpError(GRPC.invalidArgument, `${path} takes POST with a JSON body, not ${req.method}`, true, 405));
      return;
    }
    this.readBody(req).then(
      (body) => {
        if (body === undefined) {
          this.sendError(res, new HttpError(GRPC.invalidArgument, `request body is over the limit of ${this.opts.bodyBytesMax} bytes`, true, 413));
          return;
        }
        let parsed: unknown;
        try {
          parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
        } catch (err) {
          this.sendError(res, new HttpError(GRPC.invalidArgument, `malformed JSON body: ${err instanceof Error ? err.message : String(err)}`, true));
          return;
        }
        if (path === '/v3/watch') {
          this.watch(req, res, parsed);
          return;
        }
        let client: ClientTag | undefined;
        try {
          client = clientTag(req);
        } catch (err) {
          this.sendError(res, errorOf(err));
          return;
        }
        (route as Route)(this, new Fields(parsed, 'request'), client).then(
          (out) => this.send(res, 200, out),
          (err: unknown) => this.sendError(res, errorOf(err)),
        );
      },
      (err: unknown) => this.sendError(res, errorOf(err)),
    );
  }

  private readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        bytes += c.length;
        if (bytes > this.opts.bodyBytesMax) {
          over = true;
          chunks.length = 0;
          resolve(undefined);
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (!over) resolve(Buffer.concat(chunks));
      });
      req.on('error', reject);
    });
  }

  private health(res: ServerResponse): void {
    const st = this.node.status();
    const ok = st.leader !== '' && !st.removed && !this.node.stoppedFlag;
    this.send(res, ok ? 200 : 503, {
      health: ok ? 'true' : 'false',
      reason: ok ? '' : st.removed ? 'removed from the cluster' : 'no leader',
      name: st.name,
      leader: st.leader,
      role: st.role,
      term: st.term,
      applied: st.applied,
    });
  }

  // ------------------------------------------------------------------------------ handlers

  async propose(command: KvCommand, client: ClientTag | undefined): Promise<KvResponse> {
    return resultOrThrow(await this.node.propose(command, client));
  }

  headerFor(revision: number): GatewayHeader {
    return this.header(revision);
  }

  private watch(req: IncomingMessage, res: ServerResponse, body: unknown): void {
    let create: ReturnType<typeof parseWatchCreate>;
    try {
      create = parseWatchCreate(new Fields(body, 'request'));
    } catch (err) {
      this.sendError(res, errorOf(err));
      return;
    }
    if (this.streams.size >= this.opts.watchStreamsMax) {
      this.sendError(res, new HttpError(GRPC.resourceExhausted, `too many watch streams on this node (limit ${this.opts.watchStreamsMax})`, true));
      return;
    }
    let watchId = -1;
    const line = (result: Json) => res.write(`${JSON.stringify({ result })}\n`);
    let created: ReturnType<KvNode['watch']>;
    try {
      created = this.node.watch(create, (r) => {
        const out: { [k: string]: Json } = { header: { ...this.header(r.header.revision) }, watch_id: String(r.watchId), events: r.events.map(eventJson) };
        if (r.canceled === true) {
          out.canceled = true;
          if (r.compactRevision !== undefined) out.compact_revision = String(r.compactRevision);
          if (r.cancelReason !== undefined) out.cancel_reason = r.cancelReason;
        }
        line(out);
        if (r.canceled === true) res.end();
      });
    } catch (err) {
      this.sendError(res, errorOf(err));
      return;
    }
    watchId = created.watchId;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    this.streams.add(res);
    const first: { [k: string]: Json } = { header: { ...this.header(created.header.revision) }, watch_id: String(created.watchId), created: true, events: [] };
    if (created.canceled === true) {
      first.canceled = true;
      if (created.compactRevision !== undefined) first.compact_revision = String(created.compactRevision);
      if (created.cancelReason !== undefined) first.cancel_reason = created.cancelReason;
      line(first);
      res.end();
      this.streams.delete(res);
      return;
    }
    line(first);
    const cleanup = () => {
      this.streams.delete(res);
      if (watchId >= 0) this.node.cancelWatch(watchId);
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
  }
}

type Route = (s: KvHttpServer, f: Fields, client: ClientTag | undefined) => Promise<Json>;

function clientTag(req: IncomingMessage): ClientTag | undefined {
  const id = req.headers['x-clusterkit-client-id'];
  const seq = req.headers['x-clusterkit-seq'];
  if (id === undefined && seq === undefined) return undefined;
  if (typeof id !== 'string' || typeof seq !== 'string' || !/^\d{1,15}$/.test(seq) || id.length === 0) {
    throw new InvalidArgumentError('x-clusterkit-client-id (non-empty) and x-clusterkit-seq (a non-negative integer) must be sent together');
  }
  return { id, seq: Number(seq) };
}

function memberJson(m: ReturnType<KvNode['memberList']>[number]): Json {
  return { ID: m.id, name: m.info.name, peerURLs: m.info.peerURLs, clientURLs: m.info.clientURLs, isLearner: m.isLearner };
}

function membersJson(s: KvHttpServer): Json {
  return s.node.memberList().map((m) => memberJson(m));
}

const ROUTES = new Map<string, Route>([
  [
    '/v3/kv/put',
    async (s, f, client) => {
      const r = await s.propose({ type: 'put', request: parsePut(f) }, client);
      if (r.type !== 'put') throw new Error('put answered by another response type');
      return putJson(r.response.prevKv, s.headerFor(r.response.header.revision));
    },
  ],
  [
    '/v3/kv/range',
    async (s, f) => {
      const { request, serializable } = parseRange(f);
      const r = await s.node.range(request, serializable);
      return rangeJson(r, s.headerFor(r.header.revision));
    },
  ],
  [
    '/v3/kv/deleterange',
    async (s, f, client) => {
      const r = await s.propose({ type: 'delete-range', request: parseDeleteRange(f) }, client);
      if (r.type !== 'delete-range') throw new Error('deleterange answered by another response type');
      return deleteJson(r.response, s.headerFor(r.response.header.revision));
    },
  ],
  [
    '/v3/kv/txn',
    async (s, f, client) => {
      const r = await s.propose({ type: 'txn', request: parseTxn(f) }, client);
      if (r.type !== 'txn') throw new Error('txn answered by another response type');
      const header = s.headerFor(r.response.header.revision);
      return { header: { ...header }, succeeded: r.response.succeeded, responses: r.response.responses.map((op: ResponseOp) => responseOpJson(op, header)) };
    },
  ],
  [
    '/v3/lease/grant',
    async (s, f, client) => {
      const ttl = f.int('TTL', 1) ?? 0;
      const id = f.int('ID') ?? 0;
      f.done();
      if (ttl === 0) throw new InvalidArgumentError('request.TTL is required (seconds, >= 1)');
      const r = await s.propose({ type: 'lease-grant', id, ttlSec: ttl, nowMs: Date.now() }, client);
      if (r.type !== 'lease-grant') throw new Error('lease grant answered by another response type');
      return { header: { ...s.headerFor(r.response.header.revision) }, ID: String(r.response.id), TTL: String(r.response.ttlSec) };
    },
  ],
  [
    '/v3/lease/revoke',
    async (s, f, client) => {
      const id = f.int('ID', 1);
      f.done();
      if (id === undefined) throw new InvalidArgumentError('request.ID is required');
      const r = await s.propose({ type: 'lease-revoke', id }, client);
      return { header: { ...s.headerFor(r.response.header.revision) } };
    },
  ],
  [
    '/v3/lease/keepalive',
    async (s, f, client) => {
      const id = f.int('ID', 1);
      f.done();
      if (id === undefined) throw new InvalidArgumentError('request.ID is required');
      const r = await s.propose({ type: 'lease-keepalive', id, nowMs: Date.now() }, client);
      if (r.type !== 'lease-keepalive') throw new Error('keepalive answered by another response type');
      return { result: { header: { ...s.headerFor(r.response.header.revision) }, ID: String(r.response.id), TTL: String(r.response.ttlSec) } };
    },
  ],
  [
    '/v3/lease/timetolive',
    async (s, f) => {
      const id = f.int('ID', 1);
      const keys = f.bool('keys') ?? false;
      f.done();
      if (id === undefined) throw new InvalidArgumentError('request.ID is required');
      await s.node.linearizableBarrier();
      const r = s.node.kv.leaseTimeToLive(id, Date.now(), keys);
      return {
        header: { ...s.headerFor(r.header.revision) },
        ID: String(r.id),
        TTL: String(r.ttlSec),
        grantedTTL: String(r.grantedTtlSec),
        keys: r.keys.map((k) => Buffer.from(k).toString('base64')),
      };
    },
  ],
  [
    '/v3/cluster/member/list',
    async (s, f) => {
      f.bool('linearizable');
      f.done();
      return { header: { ...s.headerFor(s.node.kv.revision) }, members: membersJson(s) };
    },
  ],
  [
    '/v3/cluster/member/add',
    async (s, f) => {
      const peerURLs = f.strings('peerURLs') ?? [];
      const learner = f.bool('isLearner') ?? false;
      const name = f.str('name');
      const clientURLs = f.strings('clientURLs') ?? [];
      f.done();
      if (name === undefined) throw new InvalidArgumentError('request.name is required: clusterkit members are named (the new node runs with --name <name>)');
      const peerURL = peerURLs[0];
      if (peerURLs.length !== 1 || peerURL === undefined) throw new InvalidArgumentError('request.peerURLs must hold exactly one URL, e.g. ["http://127.0.0.1:2390"]');
      await s.node.addMember({ name, peerURL, ...(clientURLs[0] === undefined ? {} : { clientURL: clientURLs[0] }), learner });
      const member = s.node.memberList().find((m) => m.info.name === name);
      return { header: { ...s.headerFor(s.node.kv.revision) }, member: member === undefined ? null : memberJson(member), members: membersJson(s) };
    },
  ],
  [
    '/v3/cluster/member/remove',
    async (s, f) => {
      const id = f.id('ID');
      f.done();
      if (id === undefined) throw new InvalidArgumentError('request.ID is required (member id or name)');
      await s.node.removeMember(s.node.memberName(id));
      return { header: { ...s.headerFor(s.node.kv.revision) }, members: membersJson(s) };
    },
  ],
  [
    '/v3/cluster/member/promote',
    async (s, f) => {
      const id = f.id('ID');
      f.done();
      if (id === undefined) throw new InvalidArgumentError('request.ID is required (member id or name)');
      await s.node.promoteMember(s.node.memberName(id));
      return { header: { ...s.headerFor(s.node.kv.revision) }, members: membersJson(s) };
    },
  ],
  [
    '/v3/maintenance/hashkv',
    async (s, f) => {
      f.done();
      const h = await s.node.hashKv();
      return { header: { ...s.headerFor(h.revision) }, hash: h.hash, hash_revision: String(h.revision), compact_revision: String(h.compactRevision) };
    },
  ],
  [
    '/v3/maintenance/status',
    async (s, f) => {
      f.done();
      const st = s.node.status();
      return {
        header: { ...s.headerFor(st.revision) },
        version: 'clusterkit-0.1.0 (etcd-3.4 gateway compatible)',
        dbSize: String(st.keysHeld),
        leader: st.leader === '' ? '0' : numericId(`${st.clusterId}/${st.leader}`),
        leaderName: st.leader,
        name: st.name,
        role: st.role,
        raftIndex: String(st.commit),
        raftTerm: String(st.term),
        raftAppliedIndex: String(st.applied),
        compactRevision: String(st.compactRevision),
        isLearner: st.isLearner,
        members: s.node.memberList().map((m) => m.info.name),
        errors: st.removed ? ['this member has been removed from the cluster'] : [],
      };
    },
  ],
]);
