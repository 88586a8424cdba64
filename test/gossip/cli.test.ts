import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('cli: gossip and consistency commands', () => {
  it('gossip rounds --json prints one row per (mode, n) with the models', () => {
    const r = run('gossip', 'rounds', '--nodes', '16,32', '--trials', '20', '--json');
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { mode: string; n: number; mean: number; p99: number; modelLeading: number }[];
    assert.equal(rows.length, 6);
    for (const row of rows) {
      assert.ok(row.mean > 1 && row.mean < 3 * row.modelLeading, JSON.stringify(row));
      assert.ok(row.p99 >= row.mean);
    }
  });
  it('gossip residue prints the Demers column', () => {
    const r = run('gossip', 'residue', '--nodes', '200', '--k-max', '2', '--trials', '3', '--rule', 'coin');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /feedback\+coin\s+1\s+200/);
    assert.match(r.stdout, /20\.31/);
  });
  it('bad flags exit 2 with a message naming the flag', () => {
    const a = run('gossip', 'rounds', '--nodes', '1');
    assert.equal(a.status, 2);
    assert.match(a.stderr, /--nodes must be >= 2/);
    const b = run('gossip', 'rounds', '--mode', 'shout');
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--mode must be push, pull, push-pull/);
    const c = run('gossip', 'residue', '--rule', 'dice');
    assert.equal(c.status, 2);
    assert.match(c.stderr, /--rule must be coin, counter or both/);
    const d = run('sim', 'gossip-rounds', '--set', 'mode=shout');
    assert.equal(d.status, 2);
    assert.match(d.stderr, /--set mode must be/);
  });
  it('sim crdt-map, causal-kv and gossip-rounds run and pass', () => {
    const m = run('sim', 'crdt-map', '--seed', '3', '--duration', '1s', '--ops', '50', '--json');
    assert.equal(m.status, 0, m.stderr);
    const mj = JSON.parse(m.stdout) as { ok: boolean; summary: { lost: number } };
    assert.equal(mj.ok, true);
    assert.equal(mj.summary.lost, 0);
    const c = run('sim', 'causal-kv', '--seeds', '3', '--duration', '1s', '--ops', '40');
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /3\/3 seeds passed/);
    const g = run('sim', 'gossip-rounds', '--nodes', '32', '--ops', '5', '--duration', '2s');
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /^ok: gossip-rounds: push-pull, n = 32/);
  });
  it('sim causal-kv --set unsafe=true fails with exit code 1 and names the violation', () => {
    const r = run('sim', 'causal-kv', '--seed', '1', '--set', 'unsafe=true');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /before its causal predecessor/);
  });
});
