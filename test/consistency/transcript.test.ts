/**
 * Transcript tests for causal broadcast (etcd/raft's datadriven style): each block in
 * testdata/*.txt is a command, a `----` line and the expected output. Regenerate the expected
 * output deliberately with `REWRITE=1 node --import tsx --test test/consistency/transcript.test.ts`
 * and review the diff.
 *
 * Commands:
 *   group a b c          create members (a fresh group)
 *   broadcast a text     a broadcasts `text`
 *   deliver a b [n]      deliver the first n (default all) queued messages from a to b
 *   drop a b             drop every queued message from a to b
 *   sync a b             a sends its clock to b; b's answer is queued to a
 *   state a              a's clock, buffer and log sizes
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { CausalBroadcast, type CausalBroadcastMessage } from '../../src/consistency/causal-broadcast.ts';
import { vcNormalize } from '../../src/consistency/vector-clock.ts';

const dir = new URL('./testdata/', import.meta.url);

class Harness {
  members = new Map<string, CausalBroadcast<string>>();
  queues = new Map<string, CausalBroadcastMessage<string>[]>();
  run(cmd: string, args: string[]): string[] {
    const out: string[] = [];
    const member = (id: string | undefined) => {
      const m = id === undefined ? undefined : this.members.get(id);
      if (m === undefined) throw new Error(`unknown member ${id}`);
      return m;
    };
    const drain = (id: string) => {
      const m = member(id);
      for (const d of m.pollDelivered()) {
        out.push(`${id}: ${d.own ? 'broadcast' : 'delivered'} ${d.msg.origin}#${d.msg.seq} ${JSON.stringify(d.msg.payload)} vc=${JSON.stringify(vcNormalize(d.msg.vc))}`);
      }
      for (const o of m.pollMessages()) {
        const k = `${id}>${o.to}`;
        this.queues.set(k, [...(this.queues.get(k) ?? []), o.msg]);
      }
    };
    switch (cmd) {
      case 'group': {
        this.members.clear();
        this.queues.clear();
        for (const [i, id] of args.entries()) {
          this.members.set(id, new CausalBroadcast<string>({ self: id, group: args, rng: createRng(i + 1), config: { bufferMax: 4 } }));
        }
        out.push(`members ${args.join(' ')}`);
        break;
      }
      case 'broadcast': {
        const [id, ...text] = args;
        member(id).broadcast(text.join(' '));
        drain(id!);
        break;
      }
      case 'deliver': {
        const [from, to, count] = args as [string, string, string | undefined];
        const q = this.queues.get(`${from}>${to}`) ?? [];
        const n = count === undefined ? q.length : Math.min(Number(count), q.length);
        const batch = q.splice(0, n);
        for (const msg of batch) {
          out.push(`${from}>${to}: ${msg.type === 'cb-data' ? `cb-data [${msg.msgs.map((m) => `${m.origin}#${m.seq}`).join(' ')}]` : `cb-sync ${JSON.stringify(vcNormalize(msg.vc))}`}`);
          member(to).handleMessage(from, msg);
          drain(to);
        }
        if (batch.length === 0) out.push('(nothing queued)');
        break;
      }
      case 'drop': {
        const [from, to] = args as [string, string];
        const q = this.queues.get(`${from}>${to}`) ?? [];
        out.push(`dropped ${q.length} message(s) ${from}>${to}`);
        this.queues.set(`${from}>${to}`, []);
        break;
      }
      case 'sync': {
        const [from, to] = args as [string, string];
        const m = member(from);
        member(to).handleMessage(from, { type: 'cb-sync', vc: m.clock(), reply: false });
        out.push(`${from}>${to}: cb-sync ${JSON.stringify(vcNormalize(m.clock()))}`);
        drain(to);
        break;
      }
      case 'state': {
        const id = args[0] as string;
        const m = member(id);
        out.push(`${id}: clock=${JSON.stringify(vcNormalize(m.clock()))} buffered=${m.bufferedCount()} duplicates=${m.stats.duplicates} dropped=${m.stats.bufferDropped}`);
        break;
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
    return out;
  }
}

function runFile(text: string): string {
  const h = new Harness();
  const blocks: string[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) {
      if (line.startsWith('#')) blocks.push(line);
      i++;
      continue;
    }
    const [cmd, ...args] = line.trim().split(/\s+/);
    const output = h.run(cmd as string, args);
    blocks.push(`${line}\n----\n${output.join('\n')}\n`);
    i++;
    if (lines[i] === '----') {
      i++;
      while (i < lines.length && (lines[i] as string).trim() !== '') i++;
    }
  }
  return `${blocks.join('\n')}\n`.replace(/\n{3,}/g, '\n\n');
}

describe('consistency/causal-broadcast transcripts', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt'))) {
    it(file, () => {
      const url = new URL(file, dir);
      const text = readFileSync(url, 'utf8');
      const got = runFile(text);
      if (process.env.REWRITE === '1') writeFileSync(url, got);
      else assert.equal(got, text);
    });
  }
});
