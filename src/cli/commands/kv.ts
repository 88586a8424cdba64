/**
 * CLI of the Raft KV service:
 *   clusterkit up                  a local N-node cluster as child processes (what `npm start` runs)
 *   clusterkit node ...            one member (for real multi-machine clusters)
 *   clusterkit kv put|get|del|watch|txn, clusterkit member list|add|remove|promote, clusterkit status
 * The client commands speak the etcd v3 JSON gateway API, so they work against etcd too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import pino from 'pino';
import { Agent, request } from 'undici';
import { ClusterkitError, ConfigError } from '../../core/errors.ts';
import { b64, GatewayClient, parseEndpoints, prefixRangeEnd, unb64 } from '../../http/client.ts';
import { KvHttpServer } from '../../http/server.ts';
import { KvNode, parsePeerURL } from '../../kv/node.ts';
import type { PeerAddress } from '../../runtime/transport/tcp.ts';
import { intFlag, printJson, table, UsageError } from '../util.ts';

const DEFAULT_ENDPOINTS = 'http://127.0.0.1:2379';

function hostPort(flag: string, value: string): PeerAddress {
  try {
    return parsePeerURL(value, flag);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function parsePeers(value: string): Record<string, PeerAddress> {
  const out: Record<string, PeerAddress> = {};
  for (const part of value.split(',').filter((s) => s.trim() !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--peers: ${JSON.stringify(part)} must look like n2=127.0.0.1:2381`);
    out[part.slice(0, eq).trim()] = hostPort('--peers', part.slice(eq + 1));
  }
  return out;
}

// ------------------------------------------------------------------------------ node

interface NodeFlags {
  name: string;
  listenClient: string;
  listenPeer: string;
  peers?: string;
  dataDir: string;
  clusterId: string;
  clusterKey?: string;
  join?: boolean;
  tickMs: number;
  snapshotCount: number;
  compactionLag: number;
  autoCompactionRetention: number;
  walSegmentBytes: number;
  proposalTimeoutMs: number;
  logLevel: string;
}

async function runNode(f: NodeFlags): Promise<void> {
  const client = hostPort('--listen-client', f.listenClient);
  const peer = hostPort('--listen-peer', f.listenPeer);
  const peers = f.peers === undefined ? {} : parsePeers(f.peers);
  const logger = pino({ level: f.logLevel, base: { node: f.name } }, pino.destination(2));
  let key: Uint8Array | undefined;
  if (f.clusterKey !== undefined) {
    key = new TextEncoder().encode(f.clusterKey);
    if (key.length < 16) throw new UsageError('--cluster-key must be at least 16 bytes');
  }
  let http: KvHttpServer | undefined;
  let stopping = false;
  const node = await KvNode.start({
    name: f.name,
    clusterId: f.clusterId,
    dataDir: f.dataDir,
    peerListen: peer,
    clientURL: `http://${client.host}:${client.port}`,
    peers,
    join: f.join === true,
    ...(key === undefined ? {} : { clusterKey: key }),
    tickMs: f.tickMs,
    snapshotEveryEntries: f.snapshotCount,
    compactionLagEntries: f.compactionLag,
    autoCompactionRetention: f.autoCompactionRetention,
    walSegmentBytes: f.walSegmentBytes,
    proposalTimeoutMs: f.proposalTimeoutMs,
    logger: {
      info: (o, m) => logger.info(o, m),
      warn: (o, m) => logger.warn(o, m),
      error: (o, m) => logger.error(o, m),
    },
    onFatal: () => {
      process.exitCode = 1;
      void http?.close().finally(() => process.exit(1));
    },
  });
  http = new KvHttpServer(node, { host: client.host, port: client.port });
  try {
    await http.listen();
  } catch (err) {
    await node.stop();
    throw new ConfigError(`cannot listen for clients on ${f.listenClient}: ${err instanceof Error ? err.message : String(err)}`);
  }
  logger.info({ client: http.url, peer: `${node.peerAddress.host}:${node.peerAddress.port}`, dataDir: f.dataDir }, 'serving');
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void (async () => {
      await http?.close().catch(() => undefined);
      await node.stop();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await new Promise<never>(() => undefined);
}

// ------------------------------------------------------------------------------ up

interface UpFlags {
  nodes: number;
  basePort: number;
  dataDir: string;
  tickMs: number;
  snapshotCount: number;
  autoCompactionRetention: number;
}

interface ClusterFile {
  clusterId: string;
  nodes: number;
  basePort: number;
}

const binPath = fileURLToPath(new URL('../../../bin/clusterkit.mjs', import.meta.url));

async function health(url: string, dispatcher: Agent): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await request(`${url}/health`, { dispatcher, headersTimeout: 1000, bodyTimeout: 1000 });
    const body = (await res.body.json()) as Record<string, unknown>;
    return res.statusCode === 200 ? body : undefined;
  } catch {
    return undefined;
  }
}

async function runUp(f: UpFlags): Promise<void> {
  const dir = resolve(f.dataDir);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'cluster.json');
  let cluster: ClusterFile;
  if (existsSync(file)) {
    cluster = JSON.parse(await readFile(file, 'utf8')) as ClusterFile;
    if (cluster.nodes !== f.nodes) {
      throw new UsageError(`${dir} holds a ${cluster.nodes}-node cluster: run with --nodes ${cluster.nodes}, or use another --data-dir for a new cluster`);
    }
    cluster.basePort = f.basePort;
    process.stdout.write(`restarting cluster ${cluster.clusterId} from ${dir}\n`);
  } else {
    cluster = { clusterId: `ck-${randomBytes(6).toString('hex')}`, nodes: f.nodes, basePort: f.basePort };
    process.stdout.write(`creating cluster ${cluster.clusterId} in ${dir}\n`);
  }
  await writeFile(file, `${JSON.stringify(cluster, null, 2)}\n`);
  const names = Array.from({ length: f.nodes }, (_, i) => `n${i + 1}`);
  const clientPort = (i: number) => f.basePort + 2 * i;
  const peerPort = (i: number) => f.basePort + 2 * i + 1;
  const peers = names.map((n, i) => `${n}=127.0.0.1:${peerPort(i)}`).join(',');
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  names.forEach((name, i) => {
    const log = createWriteStream(join(dir, `${name}.log`), { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        // A larger young generation: a node allocates a little per request and keeps a lot
        // (log, MVCC history); with Node's default 16 MiB semi-space, scavenges promote garbage
        // and the old-generation pauses show up as write-latency tails.
        '--max-semi-space-size=64',
        binPath,
        'node',
        '--name',
        name,
        '--listen-client',
        `127.0.0.1:${clientPort(i)}`,
        '--listen-peer',
        `127.0.0.1:${peerPort(i)}`,
        '--peers',
        peers,
        '--data-dir',
        join(dir, name),
        '--cluster-id',
        cluster.clusterId,
        '--tick-ms',
        String(f.tickMs),
        '--snapshot-count',
        String(f.snapshotCount),
        '--auto-compaction-retention',
        String(f.autoCompactionRetention),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.on('exit', (code, signal) => {
      children.delete(name);
      if (!stopping) process.stderr.write(`${name} exited (${signal ?? `code ${code}`}); see ${join(dir, `${name}.log`)}\n`);
      if (!stopping && children.size === 0) process.exit(1);
    });
    children.set(name, child);
  });
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping ${children.size} nodes...\n`);
    const exits = [...children.values()].map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null || c.signalCode !== null) return done();
          const t = setTimeout(() => c.kill('SIGKILL'), 5000);
          c.once('exit', () => {
            clearTimeout(t);
            done();
          });
          c.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    process.stdout.write(`stopped; data kept in ${dir} (run again to restart from it)\n`);
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));
  const endpoints = names.map((_, i) => `http://127.0.0.1:${clientPort(i)}`);
  const dispatcher = new Agent({ connections: 2 });
  process.stdout.write(`starting ${f.nodes} members (logs in ${dir}/<name>.log)...\n`);
  const deadline = Date.now() + 60_000;
  let healthy: (Record<string, unknown> | undefined)[] = [];
  while (Date.now() < deadline && !stopping) {
    healthy = await Promise.all(endpoints.map((e) => health(e, dispatcher)));
    if (healthy.every((h) => h !== undefined)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (stopping) return;
  if (!healthy.every((h) => h !== undefined)) {
    process.stderr.write(`the cluster did not become healthy within 60 s; see the logs in ${dir}\n`);
    await stopAll('timeout');
    return;
  }
  const leader = String(healthy[0]?.leader ?? '');
  const term = String(healthy[0]?.term ?? '');
  process.stdout.write(`\nclusterkit: ${f.nodes}-node cluster ${cluster.clusterId} is up\n`);
  process.stdout.write(
    `${table(
      ['member', 'client endpoint', 'peer', 'role', 'data dir'],
      names.map((n, i) => [n, endpoints[i], `127.0.0.1:${peerPort(i)}`, String(healthy[i]?.role ?? ''), join(dir, n)]),
    )}\n`,
  );
  process.stdout.write(`leader ${leader}, term ${term}, members ${names.join(',')}\n\n`);
  process.stdout.write(`try:\n  node bin/clusterkit.mjs kv put hello world --endpoints ${endpoints.join(',')}\n`);
  process.stdout.write(`  node bin/clusterkit.mjs kv get hello --endpoints ${endpoints[1]}\n`);
  process.stdout.write(`  curl -s ${endpoints[0]}/v3/kv/range -d '{"key":"${b64('hello')}"}'\n`);
  process.stdout.write('Ctrl-C stops the cluster (data is kept).\n');
  await dispatcher.close();
  await new Promise<never>(() => undefined);
}

// ------------------------------------------------------------------------------ clients

function clientFor(opts: { endpoints?: string; timeout?: number }): GatewayClient {
  const text = opts.endpoints ?? process.env.CLUSTERKIT_ENDPOINTS ?? DEFAULT_ENDPOINTS;
  let endpoints: string[];
  try {
    endpoints = parseEndpoints(text);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  return new GatewayClient(endpoints, { timeoutMs: opts.timeout ?? 10_000, connections: 1 });
}

async function withClient<T>(opts: { endpoints?: string; timeout?: number }, f: (c: GatewayClient) => Promise<T>): Promise<T> {
  const c = clientFor(opts);
  try {
    return await f(c);
  } catch (err) {
    if (err instanceof ClusterkitError) {
      process.stderr.write(`error: ${err.message}${err.definite ? '' : ' (the request may or may not have been applied)'}\n`);
      process.exitCode = 1;
      return undefined as T;
    }
    throw err;
  } finally {
    await c.close();
  }
}

function endpointOptions(cmd: Command): Command {
  return cmd
    .option('--endpoints <urls>', `comma-separated client URLs (default $CLUSTERKIT_ENDPOINTS or ${DEFAULT_ENDPOINTS})`)
    .option('--timeout <ms>', 'request timeout in milliseconds', intFlag('--timeout', { min: 1, max: 3_600_000 }), 10_000);
}

function parseTxnOp(flag: string, text: string): Record<string, unknown> {
  const m = /^(put|get|del)\s+(\S+)(?:\s+(.*))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(text)} must be "put KEY VALUE", "get KEY" or "del KEY"`);
  const [, op, key, value] = m as unknown as [string, string, string, string | undefined];
  if (op === 'put') {
    if (value === undefined) throw new UsageError(`${flag} ${JSON.stringify(text)}: put needs a value`);
    return { request_put: { key: b64(key), value: b64(value) } };
  }
  if (value !== undefined) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${op} takes only a key`);
  return op === 'get' ? { request_range: { key: b64(key) } } : { request_delete_range: { key: b64(key) } };
}

function parseCompare(text: string): Record<string, unknown> {
  const m = /^(?:(value|version|mod|create):)?([^=!<>]+?)\s*(=|!=|<|>)\s*(.*)$/.exec(text.trim());
  if (!m) throw new UsageError(`--if ${JSON.stringify(text)} must look like KEY=VALUE, KEY!=VALUE, version:KEY=0, mod:KEY<7`);
  const [, targetRaw, key, op, rhs] = m as unknown as [string, string | undefined, string, string, string];
  const target = (targetRaw ?? 'value').toUpperCase();
  const result = op === '=' ? 'EQUAL' : op === '!=' ? 'NOT_EQUAL' : op === '<' ? 'LESS' : 'GREATER';
  const c: Record<string, unknown> = { key: b64(key), target, result };
  if (target === 'VALUE') c.value = b64(rhs);
  else {
    if (!/^\d+$/.test(rhs)) throw new UsageError(`--if ${JSON.stringify(text)}: ${target.toLowerCase()} compares need an integer`);
    c[target === 'VERSION' ? 'version' : target === 'MOD' ? 'mod_revision' : 'create_revision'] = rhs;
  }
  return c;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerKv(program: Command): void {
  program
    .command('node')
    .description('Run one member of a clusterkit KV cluster (Raft over TCP, WAL on disk, etcd-style HTTP API)')
    .requiredOption('--name <name>', 'this member name (n1, kv-2, ...)')
    .option('--listen-client <host:port>', 'HTTP API address', '127.0.0.1:2379')
    .option('--listen-peer <host:port>', 'peer (Raft) address', '127.0.0.1:2380')
    .option('--peers <list>', 'initial members with peer addresses: n2=127.0.0.1:2382,n3=127.0.0.1:2384')
    .option('--data-dir <dir>', 'data directory', './.clusterkit/node')
    .option('--cluster-id <id>', 'cluster name; a data dir of another cluster is refused', 'clusterkit')
    .option('--cluster-key <secret>', 'shared secret (>= 16 bytes) peers must prove they hold')
    .option('--join', 'start outside the configuration, to be added with `clusterkit member add`')
    .option('--tick-ms <ms>', 'Raft tick (heartbeat); election timeout is 10-20 ticks', intFlag('--tick-ms', { min: 1, max: 10_000 }), 100)
    .option('--snapshot-count <n>', 'applied entries between snapshots', intFlag('--snapshot-count', { min: 1 }), 100_000)
    .option('--compaction-lag <n>', 'entries kept behind a snapshot for slow followers', intFlag('--compaction-lag', { min: 0 }), 5000)
    .option(
      '--auto-compaction-retention <revisions>',
      'the leader compacts the MVCC history to the last N revisions (etcd revision mode); 0 = off',
      intFlag('--auto-compaction-retention', { min: 0 }),
      10_000,
    )
    .option('--wal-segment-bytes <n>', 'WAL segment size', intFlag('--wal-segment-bytes', { min: 4096 }), 64 * 1024 * 1024)
    .option('--proposal-timeout-ms <ms>', 'a write not applied in this time fails (indefinite)', intFlag('--proposal-timeout-ms', { min: 1 }), 5000)
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (f: NodeFlags) => runNode(f));

  program
    .command('up')
    .description('Start a local cluster of clusterkit nodes (separate processes on 127.0.0.1); Ctrl-C stops it, the next run restarts it from its data')
    .option('--nodes <n>', 'number of members', intFlag('--nodes', { min: 1, max: 9 }), 3)
    .option('--base-port <port>', 'node i gets client port base+2i and peer port base+2i+1', intFlag('--base-port', { min: 1024, max: 65_000 }), 2379)
    .option('--data-dir <dir>', 'where the members keep their data', './.clusterkit')
    .option('--tick-ms <ms>', 'Raft tick of every member', intFlag('--tick-ms', { min: 1, max: 10_000 }), 100)
    .option('--snapshot-count <n>', 'applied entries between snapshots', intFlag('--snapshot-count', { min: 1 }), 100_000)
    .option(
      '--auto-compaction-retention <revisions>',
      'the leader compacts the MVCC history to the last N revisions (etcd revision mode); 0 = off',
      intFlag('--auto-compaction-retention', { min: 0 }),
      10_000,
    )
    .action(async (f: UpFlags) => runUp(f));

  const kv = program.command('kv').description('Read and write keys (etcd v3 JSON gateway API: works against clusterkit and etcd)');
  endpointOptions(kv.command('put').description('Write a key').argument('<key>').argument('<value>'))
    .option('--lease <id>', 'attach to a lease')
    .action((key: string, value: string, o: { endpoints?: string; timeout: number; lease?: string }) =>
      withClient(o, async (c) => {
        const r = await c.put(key, value, o.lease === undefined ? {} : { lease: o.lease });
        const h = r.header as Record<string, string>;
        process.stdout.write(`OK (revision ${h.revision})\n`);
      }),
    );
  endpointOptions(kv.command('get').description('Read a key (or a prefix)').argument('<key>'))
    .option('--prefix', 'every key starting with <key>')
    .option('--limit <n>', 'most keys returned', intFlag('--limit', { min: 0 }))
    .option('--serializable', 'read the local replica (may be stale) instead of a linearizable read')
    .option('--rev <n>', 'read at this revision', intFlag('--rev', { min: 0 }))
    .option('--json', 'print the raw response')
    .action((key: string, o: { endpoints?: string; timeout: number; prefix?: boolean; limit?: number; serializable?: boolean; rev?: number; json?: boolean }) =>
      withClient(o, async (c) => {
        const extra: Record<string, unknown> = {};
        if (o.prefix === true) extra.range_end = prefixRangeEnd(key);
        if (o.limit !== undefined) extra.limit = o.limit;
        if (o.serializable === true) extra.serializable = true;
        if (o.rev !== undefined) extra.revision = o.rev;
        const r = await c.get(key, extra);
        if (o.json === true) {
          printJson(r);
          return;
        }
        if (r.kvs.length === 0) {
          process.stderr.write(`${key}: not found\n`);
          process.exitCode = 1;
          return;
        }
        for (const e of r.kvs) process.stdout.write(o.prefix === true ? `${e.key}\n${e.value}\n` : `${e.value}\n`);
      }),
    );
  endpointOptions(kv.command('del').description('Delete a key (or a prefix)').argument('<key>'))
    .option('--prefix', 'every key starting with <key>')
    .action((key: string, o: { endpoints?: string; timeout: number; prefix?: boolean }) =>
      withClient(o, async (c) => {
        const r = await c.del(key, o.prefix === true ? { range_end: prefixRangeEnd(key) } : {});
        process.stdout.write(`${String(r.deleted ?? '0')}\n`);
      }),
    );
  endpointOptions(kv.command('watch').description('Print changes to a key (or a prefix) as they happen').argument('<key>'))
    .option('--prefix', 'every key starting with <key>')
    .option('--rev <n>', 'start at this revision (replays history)', intFlag('--rev', { min: 0 }))
    .option('--count <n>', 'exit after this many events', intFlag('--count', { min: 1 }))
    .action(async (key: string, o: { endpoints?: string; prefix?: boolean; rev?: number; count?: number }) => {
      const endpoints = parseEndpoints(o.endpoints ?? process.env.CLUSTERKIT_ENDPOINTS ?? DEFAULT_ENDPOINTS);
      const create: Record<string, unknown> = { key: b64(key) };
      if (o.prefix === true) create.range_end = prefixRangeEnd(key);
      if (o.rev !== undefined) create.start_revision = o.rev;
      let seen = 0;
      try {
        const res = await request(`${endpoints[0]}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: create }), bodyTimeout: 0 });
        if (res.statusCode !== 200) {
          process.stderr.write(`error: ${await res.body.text()}\n`);
          process.exitCode = 1;
          return;
        }
        let buf = '';
        for await (const chunk of res.body) {
          buf += chunk.toString();
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
            if (line.trim() === '') continue;
            const r = (JSON.parse(line) as { result?: { events?: { type?: string; kv: { key: string; value?: string; mod_revision: string } }[]; canceled?: boolean; cancel_reason?: string } }).result;
            if (r?.canceled === true) {
              process.stderr.write(`watch canceled: ${r.cancel_reason ?? ''}\n`);
              process.exitCode = 1;
              return;
            }
            for (const e of r?.events ?? []) {
              process.stdout.write(`${e.type ?? 'PUT'} ${unb64(e.kv.key)} ${unb64(e.kv.value)} (revision ${e.kv.mod_revision})\n`);
              seen++;
              if (o.count !== undefined && seen >= o.count) {
                res.body.destroy();
                return;
              }
            }
          }
        }
      } catch (err) {
        if (seen > 0 && o.count !== undefined && seen >= o.count) return;
        process.stderr.write(`error: ${endpoints[0]}: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
  endpointOptions(kv.command('txn').description('Compare-and-swap: if every --if holds, run the --then ops, else the --else ops'))
    .option('--if <compare>', 'KEY=VALUE, KEY!=VALUE, version:KEY=0, mod:KEY<7, create:KEY>3 (repeatable)', collect)
    .option('--then <op>', '"put KEY VALUE", "get KEY" or "del KEY" (repeatable)', collect)
    .option('--else <op>', 'same as --then, run when a compare fails (repeatable)', collect)
    .action((o: { endpoints?: string; timeout: number; if?: string[]; then?: string[]; else?: string[] }) =>
      withClient(o, async (c) => {
        const body = {
          compare: (o.if ?? []).map(parseCompare),
          success: (o.then ?? []).map((t) => parseTxnOp('--then', t)),
          failure: (o.else ?? []).map((t) => parseTxnOp('--else', t)),
        };
        const r = await c.call<{ succeeded?: boolean; responses?: Record<string, { kvs?: { key: string; value?: string }[] }>[] }>('/v3/kv/txn', body);
        process.stdout.write(`${r.succeeded === true ? 'SUCCESS' : 'FAILURE'}\n`);
        for (const op of r.responses ?? []) {
          const range = op.response_range;
          if (range !== undefined) for (const kv of range.kvs ?? []) process.stdout.write(`${unb64(kv.key)}\n${unb64(kv.value)}\n`);
        }
      }),
    );

  const member = program.command('member').description('List and change the members of a clusterkit cluster');
  const printMembers = (members: { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner?: boolean }[]) =>
    process.stdout.write(
      `${table(
        ['id', 'name', 'peer URLs', 'client URLs', 'learner'],
        members.map((m) => [m.ID, m.name, m.peerURLs.join(','), m.clientURLs.join(','), m.isLearner === true ? 'yes' : 'no']),
      )}\n`,
    );
  type Members = { members: { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner?: boolean }[] };
  endpointOptions(member.command('list').description('List members'))
    .option('--json', 'print the raw response')
    .action((o: { endpoints?: string; timeout: number; json?: boolean }) =>
      withClient(o, async (c) => {
        const r = await c.call<Members>('/v3/cluster/member/list', {});
        if (o.json === true) printJson(r);
        else printMembers(r.members);
      }),
    );
  endpointOptions(member.command('add').description('Add a member (start it with `clusterkit node --join ...` and every existing member in --peers)').argument('<name>'))
    .requiredOption('--peer-url <url>', 'the new member peer address, e.g. http://127.0.0.1:2390')
    .option('--client-url <url>', 'the new member client address (for member list)')
    .option('--learner', 'add as a non-voting learner (promote it later)')
    .action((name: string, o: { endpoints?: string; timeout: number; peerUrl: string; clientUrl?: string; learner?: boolean }) =>
      withClient(o, async (c) => {
        const r = await c.call<Members>('/v3/cluster/member/add', {
          name,
          peerURLs: [o.peerUrl],
          ...(o.clientUrl === undefined ? {} : { clientURLs: [o.clientUrl] }),
          isLearner: o.learner === true,
        });
        process.stdout.write(`added ${name}${o.learner === true ? ' as a learner' : ''}\n`);
        printMembers(r.members);
      }),
    );
  for (const [verb, path, what] of [
    ['remove', '/v3/cluster/member/remove', 'Remove a member'],
    ['promote', '/v3/cluster/member/promote', 'Promote a learner to a voting member'],
  ] as const) {
    endpointOptions(member.command(verb).description(what).argument('<member>', 'member name or id'))
      .action((id: string, o: { endpoints?: string; timeout: number }) =>
        withClient(o, async (c) => {
          const r = await c.call<Members>(path, { ID: id });
          process.stdout.write(`${verb === 'remove' ? 'removed' : 'promoted'} ${id}\n`);
          printMembers(r.members);
        }),
      );
  }

  endpointOptions(program.command('status').description('Status of every endpoint: leader, term, indexes, revision'))
    .option('--json', 'print the raw responses')
    .action(async (o: { endpoints?: string; timeout: number; json?: boolean }) => {
      const c = clientFor(o);
      try {
        const rows: unknown[][] = [];
        const raw: Record<string, unknown> = {};
        for (const e of c.endpoints) {
          try {
            const s = await c.callOn<Record<string, unknown>>(e, '/v3/maintenance/status', {});
            raw[e] = s;
            const h = s.header as Record<string, string>;
            rows.push([e, s.name ?? h.member_id, s.leaderName ?? s.leader, s.raftTerm, s.raftIndex, s.raftAppliedIndex, h.revision, s.isLearner === true ? 'yes' : 'no']);
          } catch (err) {
            raw[e] = { error: err instanceof Error ? err.message : String(err) };
            rows.push([e, `unreachable: ${err instanceof Error ? err.message : String(err)}`]);
            process.exitCode = 1;
          }
        }
        if (o.json === true) printJson(raw);
        else process.stdout.write(`${table(['endpoint', 'member', 'leader', 'term', 'commit', 'applied', 'revision', 'learner'], rows)}\n`);
      } finally {
        await c.close();
      }
    });
}
