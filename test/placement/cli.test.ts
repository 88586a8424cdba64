/**
 * `clusterkit placement lookup|stats` end to end (child processes): output shape, JSON, and
 * exit code 2 with a message naming the flag on bad input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createPlacement } from '../../src/placement/index.ts';

const BIN = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'placement', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli: clusterkit placement', () => {
  it('lookup prints the same owners as the library, and preference lists as JSON', () => {
    const r = run('lookup', '--algo', 'maglev', '--nodes', 'a,b,c', '--json', 'user:1', 'user:2');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { results: { key: string; nodes: string[] }[] };
    const p = createPlacement('maglev', [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    assert.deepEqual(
      out.results.map((x) => x.nodes),
      [[p.lookup('user:1')], [p.lookup('user:2')]],
    );
    const z = run('lookup', '--algo', 'ring', '--nodes', 'a=2@z1,b@z2,c@z3,d@z1', '--replicas', '3', '--distinct-zones', '--json', 'k');
    assert.equal(z.code, 0, z.stderr);
    const list = (JSON.parse(z.stdout) as { results: { nodes: string[] }[] }).results[0]?.nodes ?? [];
    assert.equal(list.length, 3);
    assert.ok(!(list.includes('a') && list.includes('d')), 'a and d share zone z1');
  });

  it('stats reports balance and disruption as JSON, with bounded load under its cap', () => {
    const r = run('stats', '--algo', 'ring', '--nodes', '10', '--keys', '20000', '--epsilon', '0.25', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { maxOverMean: number; movedOnAdd: number; ideal: number; boundedLoad: { cap: number; maxLoad: number } };
    assert.ok(s.maxOverMean >= 1 && s.maxOverMean < 1.3);
    assert.ok(Math.abs(s.movedOnAdd - s.ideal) < 0.5 * s.ideal);
    assert.ok(s.boundedLoad.maxLoad <= s.boundedLoad.cap);
  });

  it('exits 2 naming the flag on bad input', () => {
    const cases: [string[], RegExp][] = [
      [['stats', '--algo', 'hashring', '--nodes', '3'], /--algo must be one of/],
      [['stats', '--algo', 'ring', '--nodes', '3', '--keys', '0'], /--keys must be >= 1/],
      [['lookup', '--algo', 'ring', '--nodes', 'a=-1', 'k'], /--nodes: weight/],
      [['lookup', '--algo', 'jump', '--nodes', '3', '--replicas', '2', 'k'], /no preference order/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
