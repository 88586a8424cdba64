import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('clusterkit sim <overlay>', () => {
  it('runs overlay scenarios and reports its figures as JSON', () => {
    for (const name of ['chord', 'superpeer']) {
      const r = run('sim', name, '--seed', '3', '--nodes', '8', '--duration', '5s', '--ops', '3', '--json');
      assert.equal(r.status, 0, `${name}: ${r.stderr}${r.stdout}`);
      const out = JSON.parse(r.stdout) as { ok: boolean; headline: string; summary: Record<string, unknown> };
      assert.equal(out.ok, true);
      assert.match(out.headline, new RegExp(`^${name}: `));
    }
  });
  it('bad scenario parameters exit 2 with a message naming the field', () => {
    const r = run('sim', 'chord', '--set', 'idBits=40');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /idBits must be an integer in 1\.\.32/);
    const f = run('sim', 'flooding', '--set', 'viewSize=2');
    assert.equal(f.status, 2);
    assert.match(f.stderr, /shuffleLength \(3\) must be ≤ viewSize \(2\)/);
  });
});
