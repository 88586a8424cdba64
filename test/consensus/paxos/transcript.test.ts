/**
 * Multi-Paxos transcript tests: each file in testdata/ is a script in the language of
 * transcript.ts with the expected output after every command. The expected output is rewritten
 * only deliberately: `REWRITE=1 node --import tsx --test test/consensus/paxos/transcript.test.ts`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseTranscript, renderTranscript } from '../raft/transcript.ts';
import { PaxosTranscriptRunner } from './transcript.ts';

const dir = new URL('./testdata/', import.meta.url);
const rewrite = process.env.REWRITE === '1';

describe('paxos transcripts', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = new URL(file, dir);
      const blocks = parseTranscript(readFileSync(path, 'utf8'));
      assert.ok(blocks.length > 0, `${file} has no commands`);
      const runner = new PaxosTranscriptRunner();
      const actual = blocks.map((b) => ({ ...b, expected: runner.run(b.command) }));
      if (rewrite) {
        writeFileSync(path, renderTranscript(actual));
        return;
      }
      for (let i = 0; i < blocks.length; i++) {
        const b = blocks[i] as (typeof blocks)[number];
        assert.equal((actual[i] as (typeof actual)[number]).expected, b.expected, `${file}: output of "${b.command}" (block ${i + 1}) differs; rerun with REWRITE=1 only if the change is understood`);
      }
    });
  }
});
