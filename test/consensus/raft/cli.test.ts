/**
 * The raft scenarios through the `clusterkit sim` command: output, history file, SVG, exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { historyFromJsonLines } from '../../../src/sim/history-parse.ts';

const bin = fileURLToPath(new URL('../../../bin/clusterkit.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('clusterkit sim raft / raft-election', () => {
  it('sim raft runs a seed, checks linearizability and writes the history as JSON lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-raft-'));
    const file = join(dir, 'h.jsonl');
    const r = run('sim', 'raft', '--seed', '5', '--nodes', '3', '--duration', '1s', '--ops', '40', '--history', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok: raft: 40 ops/);
    assert.match(r.stdout, /linearizable/);
    const history = historyFromJsonLines(readFileSync(file, 'utf8'));
    assert.equal(history.filter((e) => e.type === 'invoke').length, 40);
  });
  it('sim raft-election prints the distribution and draws the CDF', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-raft-'));
    const svg = join(dir, 'fig16.svg');
    const r = run('sim', 'raft-election', '--set', 'trials=5', '--set', 'ranges=150-300,12-24', '--svg', svg);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /150-300\s+5\s+/);
    assert.match(readFileSync(svg, 'utf8'), /^<svg /);
  });
  it('bad scenario parameters exit 2 naming the parameter', () => {
    const a = run('sim', 'raft', '--set', 'reads=sometimes');
    assert.equal(a.status, 2);
    assert.match(a.stderr, /--set reads/);
    const b = run('sim', 'raft-election', '--set', 'ranges=300-150');
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--set ranges/);
  });
});
