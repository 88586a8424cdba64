/**
 * Transcript tests for the Chord core (etcd-io/raft's testdata style). Each file in
 * `test/overlay/testdata/chord-*.txt` is a list of commands (`> ...`), each followed by the
 * output it must produce. Regenerate deliberately with
 * `REWRITE=1 node --import tsx --test test/overlay/chord-transcript.test.ts` and review the diff.
 *
 * Commands:
 *   config key=value ...   overrides of the default config (before `add`)
 *   add a [via b]          create node a (joining through b)
 *   tick [N]               tick every up node N times (name order), delivering after each tick
 *   deliver                deliver queued messages until none is left, printing each
 *   crash a                a stops: messages to it are dropped, it is not ticked
 *   state a                a's identifier, predecessor, successor list and distinct fingers
 *   lookup a KEY           a looks up identifier KEY; deliver; print the result
 *   put a KEY VALUE / get a KEY    client operations through a; deliver; print the result
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { unreachable } from '../../src/core/assert.ts';
import { createRng } from '../../src/core/rng.ts';
import { type ChordConfig, type ChordMsg, ChordNode, type ChordResult, defaultChordConfig } from '../../src/overlay/chord.ts';

const DIR = new URL('./testdata/', import.meta.url);

function msgText(m: ChordMsg): string {
  switch (m.type) {
    case 'find':
      return `find key=${m.key}${m.avoid.length > 0 ? ` avoid=${m.avoid.join(',')}` : ''}`;
    case 'find-reply':
      return `find-reply ${m.found ? 'owner' : 'next'}=${m.node.addr}`;
    case 'stabilize':
      return 'stabilize';
    case 'stabilize-reply':
      return `stabilize-reply pred=${m.predecessor?.addr ?? '-'} succs=[${m.successors.map((s) => s.addr).join(' ')}]`;
    case 'notify':
      return `notify ${m.peer.addr}`;
    case 'ping':
    case 'pong':
      return m.type;
    case 'store':
      return `store ${m.key}=${m.value}`;
    case 'store-ack':
      return `store-ack ok=${m.ok}`;
    case 'replicate':
      return `replicate [${m.items.map((i) => i.key).join(' ')}]`;
    case 'get':
      return `get ${m.key}`;
    case 'get-reply':
      return `get-reply ${m.value ?? '-'}`;
    default:
      return unreachable(m, 'chord message');
  }
}

function resultText(r: ChordResult): string {
  switch (r.type) {
    case 'lookup':
      return `lookup ${r.key} -> ${r.owner.addr} (${r.owner.id}) hops=${r.hops}`;
    case 'put':
      return `put ${r.key} ok=${r.ok} hops=${r.hops}`;
    case 'get':
      return `get ${r.key} -> ${r.value ?? '-'} hops=${r.hops}`;
    case 'failed':
      return `failed: ${r.reason}`;
    default:
      return unreachable(r, 'chord result');
  }
}

class Harness {
  config: ChordConfig = { ...defaultChordConfig() };
  readonly nodes = new Map<string, ChordNode>();
  readonly down = new Set<string>();
  private queue: { from: string; to: string; msg: ChordMsg }[] = [];

  run(line: string): string[] {
    const [cmd, ...args] = line.trim().split(/\s+/);
    const out: string[] = [];
    const node = (name: string | undefined): ChordNode => {
      const n = this.nodes.get(name ?? '');
      if (n === undefined) throw new Error(`unknown node ${name}`);
      return n;
    };
    switch (cmd) {
      case 'config':
        for (const kv of args) {
          const [k, v] = kv.split('=');
          (this.config as unknown as Record<string, number>)[k ?? ''] = Number(v);
        }
        break;
      case 'add': {
        const name = args[0] ?? '';
        const via = args[1] === 'via' && args[2] !== undefined ? [args[2]] : [];
        this.nodes.set(name, new ChordNode({ address: name, config: this.config, rng: createRng(1).fork(name), bootstrap: via }));
        out.push(`${name} id=${node(name).self.id}`);
        break;
      }
      case 'tick': {
        const times = Number(args[0] ?? 1);
        for (let i = 0; i < times; i++) {
          for (const [name, n] of [...this.nodes].sort(([a], [b]) => a.localeCompare(b))) {
            if (this.down.has(name)) continue;
            n.tick();
            this.collect(n);
          }
          const lines = this.deliver();
          if (times === 1) out.push(...lines);
        }
        break;
      }
      case 'deliver':
        out.push(...this.deliver());
        break;
      case 'crash':
        this.down.add(args[0] ?? '');
        break;
      case 'state': {
        const n = node(args[0]);
        const fingers = [...new Set(n.fingerTable.map((f) => f?.addr ?? '-'))].join(' ');
        out.push(`${n.address} id=${n.self.id} pred=${n.predecessor?.addr ?? '-'} succs=[${n.successors.map((s) => s.addr).join(' ')}] fingers=[${fingers}] keys=[${n.storedKeys().sort().join(' ')}]`);
        break;
      }
      case 'lookup':
      case 'put':
      case 'get': {
        const n = node(args[0]);
        if (cmd === 'lookup') n.lookup(Number(args[1]));
        else if (cmd === 'put') n.put(args[1] ?? '', args[2] ?? '');
        else n.get(args[1] ?? '');
        this.collect(n);
        out.push(...this.deliver());
        for (let i = 0; i < n.config.rpcTimeoutTicks + 1 && !this.pendingResult(n, out); i++) {
          n.tick();
          this.collect(n);
          out.push(...this.deliver());
        }
        break;
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
    return out;
  }

  private pendingResult(n: ChordNode, out: string[]): boolean {
    const rs = n.pollResults();
    for (const r of rs) out.push(resultText(r));
    return rs.length > 0;
  }

  private collect(n: ChordNode): void {
    for (const o of n.drain()) this.queue.push({ from: n.address, to: o.to, msg: o.msg });
  }

  private deliver(): string[] {
    const out: string[] = [];
    for (let guard = 0; this.queue.length > 0 && guard < 10_000; guard++) {
      const e = this.queue.shift();
      if (e === undefined) break;
      if (this.down.has(e.to)) {
        out.push(`${e.from}>${e.to} ${msgText(e.msg)} (dropped)`);
        continue;
      }
      out.push(`${e.from}>${e.to} ${msgText(e.msg)}`);
      const n = this.nodes.get(e.to);
      if (n === undefined) continue;
      n.handleMessage(e.from, e.msg);
      this.collect(n);
    }
    return out;
  }
}

function runFile(text: string): string {
  const h = new Harness();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('> ')) {
      if (out.length > 0 && out[out.length - 1] !== '') out.push('');
      out.push(line);
      out.push(...h.run(line.slice(2)));
      out.push('');
    } else if (line.startsWith('#')) out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

describe('Chord transcripts', () => {
  for (const file of readdirSync(DIR).filter((f) => f.startsWith('chord-') && f.endsWith('.txt'))) {
    it(file, () => {
      const url = new URL(file, DIR);
      const text = readFileSync(url, 'utf8');
      const got = runFile(text);
      if (process.env.REWRITE === '1') writeFileSync(url, got);
      else assert.equal(got, text);
    });
  }
});
