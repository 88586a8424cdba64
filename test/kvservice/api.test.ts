import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { b64, GatewayError, unb64 } from '../../src/http/client.ts';
import { ProcCluster, until } from './harness.ts';

async function post(url: string, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) as Record<string, unknown> };
}

describe('kv service: a 3-node cluster of real processes', () => {
  let c: ProcCluster;
  before(async () => {
    c = await ProcCluster.create({ nodes: 3 });
    await c.startAll();
  });
  after(async () => {
    await c.destroy();
  });

  it('a write on any node is readable linearizably from every node', async () => {
    for (const writer of c.nodes) {
      const w = c.client([writer]);
      await w.put(`from-${writer.name}`, `value-${writer.name}`);
      await w.close();
      for (const reader of c.nodes) {
        const r = c.client([reader]);
        const got = await r.get(`from-${writer.name}`);
        await r.close();
        assert.equal(got.kvs.length, 1, `${reader.name} must see the write acknowledged by ${writer.name}`);
        assert.equal(got.kvs[0]?.value, `value-${writer.name}`);
      }
    }
  });

  it('answers with etcd response headers and int64s as strings', async () => {
    const n = c.nodes[1]!;
    const { status, json } = await post(n.url, '/v3/kv/put', JSON.stringify({ key: b64('h'), value: b64('v'), prev_kv: true }));
    assert.equal(status, 200);
    const h = json.header as Record<string, unknown>;
    for (const f of ['cluster_id', 'member_id', 'revision', 'raft_term']) assert.equal(typeof h[f], 'string', `header.${f}`);
    assert.match(String(h.revision), /^\d+$/);
    const r = await post(n.url, '/v3/kv/range', JSON.stringify({ key: b64('h') }));
    const kv = (r.json.kvs as Record<string, unknown>[])[0]!;
    assert.equal(unb64(kv.value as string), 'v');
    assert.equal(kv.version, '1');
    assert.equal(r.json.count, '1');
  });

  it('txn compares and swaps; deleterange deletes a prefix', async () => {
    const cl = c.client();
    await cl.put('cas', 'a');
    const ok = await cl.call<{ succeeded: boolean }>('/v3/kv/txn', {
      compare: [{ key: b64('cas'), target: 'VALUE', result: 'EQUAL', value: b64('a') }],
      success: [{ request_put: { key: b64('cas'), value: b64('b') } }],
      failure: [],
    });
    assert.equal(ok.succeeded, true);
    const no = await cl.call<{ succeeded: boolean; responses: { response_range: { kvs: { value: string }[] } }[] }>('/v3/kv/txn', {
      compare: [{ key: b64('cas'), target: 'VALUE', result: 'EQUAL', value: b64('a') }],
      success: [{ request_put: { key: b64('cas'), value: b64('c') } }],
      failure: [{ request_range: { key: b64('cas') } }],
    });
    assert.equal(no.succeeded, false);
    assert.equal(unb64(no.responses[0]?.response_range.kvs[0]?.value), 'b');
    await cl.put('pfx/1', 'x');
    await cl.put('pfx/2', 'y');
    const del = await cl.del('pfx/', { range_end: b64('pfx0') });
    assert.equal(del.deleted, '2');
    assert.equal((await cl.get('pfx/1')).kvs.length, 0);
    await cl.close();
  });

  it('a retried request with the same client id and seq is applied once', async () => {
    const cl = c.client([c.nodes[2]!]);
    const headers = { 'x-clusterkit-client-id': 'client-a', 'x-clusterkit-seq': '7' };
    const first = await cl.put('dedup', 'one', {}, headers);
    const second = await cl.put('dedup', 'one', {}, headers);
    assert.deepEqual(second.header, first.header, 'the retry returns the first result');
    const got = await cl.get('dedup');
    assert.equal(got.kvs[0]?.version, '1', 'the key was written once');
    await cl.close();
  });

  it('leases: keys attached to an expired lease are deleted by the leader', async () => {
    const cl = c.client();
    const g = await cl.call<{ ID: string; TTL: string }>('/v3/lease/grant', { TTL: 1 });
    assert.equal(g.TTL, '1');
    await cl.put('leased', 'x', { lease: g.ID });
    const ka = await cl.call<{ result: { ID: string } }>('/v3/lease/keepalive', { ID: g.ID });
    assert.equal(ka.result.ID, g.ID);
    assert.equal((await cl.get('leased')).kvs.length, 1);
    await until('the leased key to be deleted', 10_000, async () => ((await cl.get('leased')).kvs.length === 0 ? true : undefined), 100);
    await assert.rejects(cl.call('/v3/lease/revoke', { ID: g.ID }), (e: unknown) => e instanceof GatewayError && e.status === 404);
    await cl.close();
  });

  it('watch streams events as newline-delimited JSON', async () => {
    const n = c.nodes[0]!;
    const res = await request(`${n.url}/v3/watch`, { method: 'POST', body: JSON.stringify({ create_request: { key: b64('w/'), range_end: b64('w0') } }), bodyTimeout: 0 });
    assert.equal(res.statusCode, 200);
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    const reading = (async () => {
      for await (const chunk of res.body) {
        buf += chunk.toString();
        let i = buf.indexOf('\n');
        while (i >= 0) {
          lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
          buf = buf.slice(i + 1);
          i = buf.indexOf('\n');
        }
        const events = lines.flatMap((l) => ((l.result as { events?: unknown[] }).events ?? []) as { type: string; kv: { key: string } }[]);
        if (events.length >= 2) return events;
      }
      return [];
    })();
    await until('watch created', 5000, async () => (lines.length > 0 ? true : undefined));
    assert.equal((lines[0]?.result as { created?: boolean } | undefined)?.created, true);
    const other = c.client([c.nodes[2]!]);
    await other.put('w/a', '1');
    await other.del('w/a');
    const events = await reading;
    res.body.destroy();
    await other.close();
    assert.deepEqual(
      events.map((e) => [e.type, unb64(e.kv.key)]),
      [
        ['PUT', 'w/a'],
        ['DELETE', 'w/a'],
      ],
    );
  });

  it('bad input gets a clear 400/413 and the node keeps serving', async () => {
    const n = c.nodes[1]!;
    const cases: [string, string, number, RegExp][] = [
      ['/v3/kv/put', '{"key":', 400, /malformed JSON/],
      ['/v3/kv/put', JSON.stringify({ key: 'not base64!', value: '' }), 400, /base64/],
      ['/v3/kv/put', JSON.stringify({ key: b64('k'), value: b64('v'), colour: 1 }), 400, /unknown field "colour"/],
      ['/v3/kv/nope', '{}', 400, /unknown path/],
      ['/v3/kv/range', JSON.stringify({ key: b64('k'), limit: 'many' }), 400, /limit must be an integer/],
      ['/v3/kv/put', JSON.stringify({ key: b64('k'), value: b64('x'.repeat(1024)), lease: 424242 }), 404, /lease/],
    ];
    for (const [path, body, status, re] of cases) {
      const r = await post(n.url, path, body);
      assert.equal(r.status, status, `${path} ${body.slice(0, 40)}`);
      assert.match(String(r.json.message), re);
      assert.equal(typeof r.json.code, 'number');
      assert.equal(r.json.error, r.json.message);
    }
    const big = JSON.stringify({ key: b64('big'), value: Buffer.alloc(1200 * 1024).toString('base64') });
    const r = await post(n.url, '/v3/kv/put', big);
    assert.equal(r.status, 413);
    assert.match(String(r.json.message), /over the limit/);
    const cl = c.client([n]);
    await cl.put('still', 'serving');
    assert.equal((await cl.get('still')).kvs[0]?.value, 'serving');
    await cl.close();
  });

  it('member list, maintenance status, health and metrics', async () => {
    const cl = c.client();
    const ml = await cl.call<{ members: { name: string; ID: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }[] }>('/v3/cluster/member/list', {});
    assert.deepEqual(
      ml.members.map((m) => m.name),
      ['n1', 'n2', 'n3'],
    );
    await until('client URLs announced', 5000, async () => {
      const m = await cl.call<{ members: { clientURLs: string[] }[] }>('/v3/cluster/member/list', {});
      return m.members.every((x) => x.clientURLs.length === 1) ? true : undefined;
    });
    const st = await cl.call<{ leader: string; raftTerm: string; leaderName: string }>('/v3/maintenance/status', {});
    assert.ok(['n1', 'n2', 'n3'].includes(st.leaderName));
    assert.match(st.raftTerm, /^\d+$/);
    const res = await request(`${c.nodes[0]!.url}/metrics`);
    const text = await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.match(text, /clusterkit_raft_term \d+/);
    assert.match(text, /clusterkit_http_requests_total/);
    await cl.close();
  });

  it('a data dir of another cluster is refused with a clear message', async () => {
    const n = c.nodes[2]!;
    await c.kill(n);
    const p = c.start(n, c.peersArg(), 'some-other-cluster');
    const { code, output } = await c.exitOf(p, n);
    assert.notEqual(code, 0);
    assert.match(output, /data dir belongs to cluster "test-cluster"/);
    c.start(n);
    await c.waitHealthy([n]);
  });

  it('a write without a quorum fails within a bounded time instead of hanging', async () => {
    const [a, b, d] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0], typeof c.nodes[0]];
    await c.kill(b!);
    await c.kill(d!);
    const cl = c.client([a!], 15_000);
    const t0 = Date.now();
    const err = await cl.put('no-quorum', 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    await cl.close();
    assert.ok(err instanceof GatewayError, `expected an error, got ${String(err)}`);
    assert.ok([503, 504].includes(err.status), `status ${err.status}: ${err.message}`);
    assert.ok(took < 10_000, `answered after ${took} ms`);
    c.start(b!);
    c.start(d!);
    await c.waitHealthy();
  });
});
