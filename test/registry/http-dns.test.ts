import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import { RegistryAgent } from '../../src/registry/agent.ts';
import { MemoryStore } from '../../src/registry/memory-store.ts';

const exec = promisify(execFile);

async function put(base: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${path}`, { method: 'PUT', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: await res.json() };
}

describe('registry HTTP API and DNS (real sockets)', () => {
  let agent: RegistryAgent;
  let base: string;
  before(async () => {
    agent = new RegistryAgent({ store: new MemoryStore(), httpPort: 0, dnsPort: 0, domain: 'clusterkit.' });
    await agent.start();
    base = agent.url;
    for (const [id, ip, port, tags] of [
      ['web-1', '127.0.0.10', 8001, ['v1']],
      ['web-2', '127.0.0.11', 8002, ['v2']],
      ['web-3', '127.0.0.12', 8003, ['v2']],
    ] as const) {
      const r = await put(base, '/v1/agent/service/register', { Name: 'web', ID: id, Address: ip, Port: port, Tags: tags, Check: { TTL: '60s' } });
      assert.equal(r.status, 200);
    }
    assert.equal((await put(base, '/v1/agent/check/fail/service:web-3')).status, 200);
  });
  after(async () => {
    await agent.close();
  });

  it('malformed registrations get 400 naming the field', async () => {
    for (const [body, field] of [
      [{ Port: 80 }, 'Name'],
      [{ Name: 'x', Port: 99999 }, 'Port'],
      [{ Name: 'x', Port: 80, Meta: { big: 'y'.repeat(600) } }, 'Meta'],
    ] as const) {
      const r = await put(base, '/v1/agent/service/register', body);
      assert.equal(r.status, 400);
      assert.equal((r.json as { field: string }).field, field);
      assert.match((r.json as { error: string }).error, new RegExp(`^${field}`));
    }
    const raw = await fetch(`${base}/v1/agent/service/register`, { method: 'PUT', body: '{not json' });
    assert.equal(raw.status, 400);
  });

  it('health ?passing lists only passing instances, with X-Index and X-Consul-Index', async () => {
    const all = await fetch(`${base}/v1/health/service/web`);
    const passing = await fetch(`${base}/v1/health/service/web?passing`);
    assert.equal(((await all.json()) as unknown[]).length, 3);
    const p = (await passing.json()) as { Service: { ID: string } }[];
    assert.deepEqual(p.map((e) => e.Service.ID).sort(), ['web-1', 'web-2']);
    assert.ok(Number(passing.headers.get('x-index')) > 0);
    assert.equal(passing.headers.get('x-consul-index'), passing.headers.get('x-index'));
    const cat = (await (await fetch(`${base}/v1/catalog/services`)).json()) as Record<string, string[]>;
    assert.deepEqual(cat.web, ['v1', 'v2']);
  });

  it('a blocking query returns when the service changes', async () => {
    const r0 = await fetch(`${base}/v1/health/service/web?passing`);
    const index = r0.headers.get('x-index');
    await r0.arrayBuffer();
    const blocked = fetch(`${base}/v1/health/service/web?passing&index=${index}&wait=30s`);
    await put(base, '/v1/agent/check/pass/web-3');
    const r1 = await blocked;
    assert.ok(Number(r1.headers.get('x-index')) > Number(index));
    assert.equal(((await r1.json()) as unknown[]).length, 3);
    await put(base, '/v1/agent/check/fail/web-3');
    const timed = await fetch(`${base}/v1/health/service/web?index=${(await fetch(`${base}/v1/health/service/web`)).headers.get('x-index')}&wait=50ms`);
    assert.equal(timed.status, 200);
    assert.equal((await fetch(`${base}/v1/health/service/web?index=abc`)).status, 400);
  });

  it('deregister removes, unknown id is 404; /metrics and /v1/status answer', async () => {
    await put(base, '/v1/agent/service/register', { Name: 'tmp', ID: 'tmp-1', Port: 1 });
    assert.equal((await put(base, '/v1/agent/service/deregister/tmp-1')).status, 200);
    assert.equal((await put(base, '/v1/agent/service/deregister/tmp-1')).status, 404);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /clusterkit_registry_instances 3/);
    assert.match(metrics, /clusterkit_registry_instances_passing 2/);
    const status = (await (await fetch(`${base}/v1/status`)).json()) as { store: string; instances: number };
    assert.equal(status.store, 'memory');
  });

  it('dig: A and SRV for <service>.service.<domain> list healthy instances only', async () => {
    const port = String(agent.dnsPort);
    const a = await exec('dig', ['+short', '+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'web.service.clusterkit', 'A']);
    assert.deepEqual(a.stdout.trim().split('\n').sort(), ['127.0.0.10', '127.0.0.11']);
    const srv = await exec('dig', ['+short', '+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'web.service.clusterkit', 'SRV']);
    const lines = srv.stdout.trim().split('\n').sort();
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^1 1 8001 7f00000a\.addr\.clusterkit\.$/);
    const tag = await exec('dig', ['+short', '+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'v2.web.service.clusterkit', 'A']);
    assert.equal(tag.stdout.trim(), '127.0.0.11');
    const tcp = await exec('dig', ['+tcp', '+short', '+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'web.service.clusterkit', 'SRV']);
    assert.equal(tcp.stdout.trim().split('\n').length, 2);
  });

  it('dig: unknown service is NXDOMAIN, known name without matches is NOERROR and empty, outside the domain is REFUSED', async () => {
    const port = String(agent.dnsPort);
    const nx = await exec('dig', ['+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'nope.service.clusterkit', 'A']);
    assert.match(nx.stdout, /status: NXDOMAIN/);
    const empty = await exec('dig', ['+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'v9.web.service.clusterkit', 'A']);
    assert.match(empty.stdout, /status: NOERROR/);
    assert.match(empty.stdout, /ANSWER: 0/);
    const aaaa = await exec('dig', ['+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'web.service.clusterkit', 'AAAA']);
    assert.match(aaaa.stdout, /status: NOERROR/);
    assert.match(aaaa.stdout, /ANSWER: 0/);
    const refused = await exec('dig', ['+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'example.com', 'A']);
    assert.match(refused.stdout, /status: REFUSED/);
  });

  it('the streamed watch sends the current list, then one line per change', async () => {
    const ac = new AbortController();
    const res = await fetch(`${base}/v1/watch/service/stream?passing`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const lines: { index: number; instances: unknown[] }[] = [];
    const reading = (async () => {
      let buf = '';
      try {
        for await (const chunk of res.body ?? []) {
          buf += Buffer.from(chunk as Uint8Array).toString('utf8');
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            lines.push(JSON.parse(buf.slice(0, nl)) as { index: number; instances: unknown[] });
            buf = buf.slice(nl + 1);
            nl = buf.indexOf('\n');
          }
          if (lines.length >= 3) break;
        }
      } catch {
        // aborted
      }
    })();
    await put(base, '/v1/agent/service/register', { Name: 'stream', ID: 's1', Port: 1 });
    await put(base, '/v1/agent/service/register', { Name: 'stream', ID: 's2', Port: 2 });
    await reading;
    ac.abort();
    assert.deepEqual(
      lines.map((l) => l.instances.length),
      [0, 1, 2],
    );
    assert.ok((lines[2]?.index ?? 0) > (lines[1]?.index ?? 0));
  });

  it('dig: a reply too large for UDP is truncated (TC) and dig retries over TCP', async () => {
    for (let i = 0; i < 40; i++) await put(base, '/v1/agent/service/register', { Name: 'big', ID: `big-${i}`, Address: `127.0.2.${i + 1}`, Port: 9000 + i });
    const port = String(agent.dnsPort);
    const before = agent.dns?.stats.truncated ?? 0;
    const r = await exec('dig', ['+noedns', '+time=2', '+tries=1', '-p', port, '@127.0.0.1', 'big.service.clusterkit', 'A']);
    assert.match(r.stdout, /Truncated, retrying in TCP mode/);
    assert.match(r.stdout, /ANSWER: 40/);
    assert.ok((agent.dns?.stats.truncated ?? 0) > before);
  });

  it('malformed DNS packets are dropped and counted; the server keeps answering', async () => {
    const dns = agent.dns;
    assert.ok(dns !== undefined);
    const before = dns.stats.malformed;
    const sock = dgram.createSocket('udp4');
    const send = (b: Buffer) => new Promise<void>((resolve, reject) => sock.send(b, agent.dnsPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    await send(Buffer.from([1, 2, 3]));
    await send(dnsPacket.encode({ type: 'response', id: 7, questions: [{ type: 'A', name: 'web.service.clusterkit' }] }));
    const reply = new Promise<Buffer>((resolve) => sock.once('message', (m) => resolve(m)));
    await send(dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'web.service.clusterkit' }] }));
    const r = dnsPacket.decode(await reply);
    sock.close();
    assert.equal(r.id, 9, 'only the well-formed query was answered');
    assert.equal(r.answers?.length, 2);
    assert.equal(dns.stats.malformed, before + 2);
  });
});
