import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ProcCluster, status, until } from './harness.ts';

const BIN = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));
const run = promisify(execFile);

async function ck(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('clusterkit kv / member / status against a real cluster', () => {
  let c: ProcCluster;
  let endpoints = '';
  before(async () => {
    c = await ProcCluster.create({ nodes: 3 });
    await c.startAll();
    endpoints = c.nodes.map((n) => n.url).join(',');
  });
  after(async () => {
    await c.destroy();
  });

  it('kv put, get, get --prefix, txn, del', async () => {
    const E = ['--endpoints', endpoints];
    assert.match((await ck('kv', 'put', 'cli/a', 'one', ...E)).stdout, /^OK \(revision \d+\)/);
    await ck('kv', 'put', 'cli/b', 'two', ...E);
    assert.equal((await ck('kv', 'get', 'cli/a', '--endpoints', c.nodes[2]!.url)).stdout, 'one\n');
    assert.equal((await ck('kv', 'get', 'cli/', '--prefix', ...E)).stdout, 'cli/a\none\ncli/b\ntwo\n');
    const t = await ck('kv', 'txn', '--if', 'cli/a=one', '--then', 'put cli/a uno', '--else', 'get cli/a', ...E);
    assert.equal(t.stdout, 'SUCCESS\n');
    const f = await ck('kv', 'txn', '--if', 'cli/a=one', '--then', 'put cli/a x', '--else', 'get cli/a', ...E);
    assert.equal(f.stdout, 'FAILURE\ncli/a\nuno\n');
    assert.equal((await ck('kv', 'del', 'cli/', '--prefix', ...E)).stdout, '2\n');
    const missing = await ck('kv', 'get', 'cli/a', ...E);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
  });

  it('kv watch prints events and exits after --count', async () => {
    const watching = ck('kv', 'watch', 'wcli/', '--prefix', '--count', '2', '--endpoints', c.nodes[1]!.url);
    // The watch starts at the revision current when it is created, which the test cannot see
    // from outside: writes are repeated until the watcher has printed two events.
    let out: Awaited<ReturnType<typeof ck>> | undefined;
    const done = watching.then((r) => {
      out = r;
    });
    let i = 0;
    while (out === undefined && i < 50) {
      await ck('kv', 'put', `wcli/${i++}`, 'v', '--endpoints', endpoints);
      await Promise.race([done, new Promise((r) => setTimeout(r, 200))]);
    }
    await done;
    assert.equal(out?.code, 0, out?.stderr);
    assert.match(out?.stdout ?? '', /^PUT wcli\/\d+ v \(revision \d+\)\nPUT wcli\/\d+ v \(revision \d+\)\n$/);
  });

  it('status and member list, add --learner, promote, remove', async () => {
    const st = await ck('status', '--endpoints', endpoints);
    assert.equal(st.code, 0, st.stderr);
    for (const n of c.nodes) assert.ok(st.stdout.includes(n.url));
    const list = await ck('member', 'list', '--endpoints', endpoints);
    for (const n of ['n1', 'n2', 'n3']) assert.match(list.stdout, new RegExp(`\\b${n}\\b`));

    const n4 = await c.define('n4', true);
    c.start(n4, c.peersArg());
    const add = await ck('member', 'add', 'n4', '--peer-url', `http://127.0.0.1:${n4.peerPort}`, '--client-url', n4.url, '--learner', '--endpoints', endpoints);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added n4 as a learner/);
    assert.match(add.stdout, /n4 .* yes/);
    await c.waitHealthy([n4]);
    const leader = await c.leader();
    const target = Number((await status(leader)).raftIndex);
    await until('n4 caught up', 20_000, async () => (Number((await status(n4)).raftAppliedIndex) >= target ? true : undefined), 100);
    const promote = await ck('member', 'promote', 'n4', '--endpoints', endpoints);
    assert.equal(promote.code, 0, promote.stderr);
    assert.match(promote.stdout, /promoted n4/);
    assert.match(promote.stdout, /n4 .* no/);
    const removed = await ck('member', 'remove', 'n4', '--endpoints', endpoints);
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch(removed.stdout.split('\n').slice(1).join('\n'), /\bn4\b/);
    const bad = await ck('member', 'remove', 'nobody', '--endpoints', endpoints);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no member "nobody"/);
  });

  it('bad flags exit 2 with the flag named; an unreachable endpoint is a clear error', async () => {
    const r = await ck('up', '--nodes', '0');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--nodes must be >= 1/);
    const ac = await ck('node', '--name', 'x1', '--auto-compaction-retention', '-5');
    assert.equal(ac.code, 2);
    assert.match(ac.stderr, /--auto-compaction-retention must be >= 0/);
    const t = await ck('kv', 'txn', '--if', 'nonsense', '--endpoints', endpoints);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /--if "nonsense" must look like/);
    const down = await ck('kv', 'get', 'x', '--endpoints', 'http://127.0.0.1:1');
    assert.equal(down.code, 1);
    assert.match(down.stderr, /127\.0\.0\.1:1: ECONNREFUSED/);
  });
});
