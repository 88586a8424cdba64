import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/clusterkit.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('cli', () => {
  it('--version prints the package version', () => {
    const r = run('--version');
    assert.equal(r.status, 0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(r.stdout.trim(), pkg.version);
  });
  it('--help lists the sim command', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /sim \[options\] \[scenario\]/);
  });
  it('unknown commands and bad flags exit 2 with a message naming the flag', () => {
    assert.equal(run('no-such-command').status, 2);
    const r = run('sim', 'register', '--seed', '-3');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--seed must be >= 0/);
    const f = run('sim', 'register', '--faults', 'meteor');
    assert.equal(f.status, 2);
    assert.match(f.stderr, /unknown fault "meteor"/);
    const s = run('sim', 'no-such-scenario');
    assert.equal(s.status, 2);
    assert.match(s.stderr, /unknown scenario/);
  });
  it('sim register runs a scenario, prints a summary, and writes the history as JSON lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-cli-'));
    const file = join(dir, 'h.jsonl');
    const r = run('sim', 'register', '--seed', '4', '--ops', '50', '--duration', '500ms', '--history', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok: register: 50 ops/);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 100);
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(first).slice(0, 6), ['process', 'type', 'f', 'key', 'value', 'time']);
    assert.equal(first.type, 'invoke');
  });
  it('sim --json is machine-readable and replays identically for the same seed', () => {
    const a = JSON.parse(run('sim', 'register', '--seed', '8', '--ops', '40', '--json').stdout) as { summary: { traceHash: string } };
    const b = JSON.parse(run('sim', 'register', '--seed', '8', '--ops', '40', '--json').stdout) as { summary: { traceHash: string } };
    assert.equal(a.summary.traceHash, b.summary.traceHash);
  });
  it('sim --seeds sweeps consecutive seeds', () => {
    const r = run('sim', 'register', '--seed', '1', '--seeds', '5', '--ops', '30', '--duration', '300ms', '--no-progress');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /register: 5\/5 seeds passed \(seeds 1\.\.5\)/);
  });
});
