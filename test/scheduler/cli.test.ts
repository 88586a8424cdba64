import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('clusterkit cluster / sim cluster', () => {
  it('cluster availability prints measured beside modelled, as JSON too', () => {
    const r = run('cluster', 'availability', '--topology', 'central', '--workers', '3', '--duration', '20s', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { nodeAvailability: number; rows: { topology: string; measuredService: number; seedFormula: number }[] };
    assert.equal(out.rows.length, 1);
    assert.equal(out.rows[0]?.topology, 'central');
    assert.ok(Math.abs(out.nodeAvailability - 0.95) < 1e-9);
    assert.ok((out.rows[0]?.measuredService ?? -1) >= 0 && (out.rows[0]?.measuredService ?? 2) <= 1);
  });

  it('bad flags exit 2 naming the flag', () => {
    const t = run('cluster', 'availability', '--topology', 'mesh');
    assert.equal(t.status, 2);
    assert.match(t.stderr, /--topology must be one of/);
    const w = run('cluster', 'availability', '--workers', '0');
    assert.equal(w.status, 2);
    assert.match(w.stderr, /--workers must be >= 1/);
    const s = run('sim', 'cluster', '--set', 'topology=ring');
    assert.equal(s.status, 2);
    assert.match(s.stderr, /topology must be one of/);
  });

  it('sim cluster runs each topology', () => {
    for (const t of ['central', 'hybrid', 'distributed']) {
      const r = run('sim', 'cluster', '--set', `topology=${t}`, '--duration', '3s', '--nodes', '3');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`ok: cluster ${t}`));
    }
  });
});
