import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HistoryFormatError } from '../../src/sim/checkers/operations.ts';
import { corruptRead, generateRegisterHistory } from '../../src/sim/checkers/register-workload.ts';
import { historyToJsonLines } from '../../src/sim/history.ts';
import { historyFromJsonLines } from '../../src/sim/history-parse.ts';

const W = '{"process":0,"type":"invoke","f":"write","key":"k","value":1,"time":0}';
const W_OK = '{"process":0,"type":"ok","f":"write","key":"k","value":1,"time":5}';

function parseError(text: string): HistoryFormatError {
  try {
    historyFromJsonLines(text);
  } catch (err) {
    assert.ok(err instanceof HistoryFormatError, `expected HistoryFormatError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the history to be rejected');
}

describe('history JSON lines', () => {
  it('round-trips historyToJsonLines, including cas pairs, null reads, info errors', () => {
    const hist = generateRegisterHistory({ seed: 1, opsCount: 300, keysCount: 3, clientsCount: 4, infoProbability: 0.05 });
    const withError = hist.map((e) => (e.type === 'info' ? { ...e, error: 'timeout' } : e));
    assert.deepEqual(historyFromJsonLines(historyToJsonLines(withError)), withError);
  });
  it('ignores blank lines and unknown fields', () => {
    const text = `\n${W.replace('}', ',"index":7}')}\n\n${W_OK}\n`;
    const hist = historyFromJsonLines(text);
    assert.equal(hist.length, 2);
    assert.equal('index' in (hist[0] as object), false);
  });
  it('names the line of invalid JSON', () => {
    const e = parseError(`${W}\n\n{"process":0,"type":"ok",\n`);
    assert.equal(e.line, 3);
    assert.match(e.message, /^line 3: invalid JSON/);
  });
  it('names the field that is wrong', () => {
    assert.match(parseError('[1,2]').message, /line 1: expected a JSON object/);
    assert.match(parseError(W.replace('"process":0', '"process":-1')).message, /line 1: "process" must be a non-negative integer/);
    assert.match(parseError(W.replace('"invoke"', '"done"')).message, /"type" must be one of invoke, ok, fail, info; got "done"/);
    assert.match(parseError(W.replace('"write"', '"append"')).message, /"f" must be one of read, write, cas/);
    assert.match(parseError(W.replace('"key":"k"', '"key":3')).message, /"key" must be a string/);
    assert.match(parseError(W.replace('"time":0', '"time":"now"')).message, /"time" must be a non-negative number/);
    assert.match(parseError(W.replace('"value":1,', '')).message, /"value" is missing/);
    assert.match(parseError(W.replace('"value":1', '"value":{"a":1}')).message, /a write value must be a number, a string or null/);
    assert.match(parseError(W.replace('"write","key":"k","value":1', '"cas","key":"k","value":[1]')).message, /a cas value must be \[from, to\]/);
  });
  it('rejects a completion that was never invoked, a second invoke in flight, and mismatched completions', () => {
    assert.match(parseError(W_OK).message, /line 1: process 0 completed \(ok\) an operation it never invoked/);
    assert.match(parseError(`${W}\n${W}`).message, /line 2: process 0 invoked write while its write from line 1 has not completed/);
    assert.match(parseError(`${W}\n${W_OK.replace('"key":"k"', '"key":"j"')}`).message, /line 2: completion key "j" does not match the invoke key "k" on line 1/);
    assert.match(parseError(`${W}\n${W_OK.replace('"write"', '"read"')}`).message, /line 2: completion f=read does not match the invoke f=write/);
  });
});

describe('clusterkit check linearizable (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ck-lincheck-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = new URL('../../bin/clusterkit.mjs', import.meta.url).pathname;
  const run = (file: string, ...flags: string[]) => spawnSync(process.execPath, [bin, 'check', 'linearizable', file, ...flags], { encoding: 'utf8' });
  const hist = generateRegisterHistory({ seed: 9, opsCount: 500, keysCount: 2, clientsCount: 4 });

  it('exits 0 and prints a summary for a linearizable history', () => {
    const file = join(dir, 'good.jsonl');
    writeFileSync(file, historyToJsonLines(hist));
    const r = run(file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1000 events, 500 operations/);
    assert.match(r.stdout, /LINEARIZABLE/);
  });
  it('reads the history from standard input with "-"', () => {
    const r = spawnSync(process.execPath, [bin, 'check', 'linearizable', '-'], { encoding: 'utf8', input: historyToJsonLines(hist) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^-: 1000 events/);
  });
  it('exits 1 and explains a non-linearizable history (JSON output names the lines)', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, historyToJsonLines(corruptRead(hist, 1) ?? []));
    const r = run(file);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /NOT LINEARIZABLE: key "k\d"/);
    assert.match(r.stdout, /could not place: p\d+ read k\d→-1 ok {2}\(lines \d+-\d+\)/);
    const j = run(file, '--json');
    assert.equal(j.status, 1);
    const parsed = JSON.parse(j.stdout) as { outcome: string; failure: { unplaceable: { value: unknown; completeLine: number } } };
    assert.equal(parsed.outcome, 'not-linearizable');
    assert.equal(parsed.failure.unplaceable.value, -1);
    assert.ok(parsed.failure.unplaceable.completeLine > 0);
  });
  it('exits 2 naming the line for malformed input, and for a missing file', () => {
    const file = join(dir, 'malformed.jsonl');
    writeFileSync(file, `${W}\nnot json\n`);
    const r = run(file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /line 2: invalid JSON/);
    const missing = run(join(dir, 'nope.jsonl'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read history file/);
  });
});
