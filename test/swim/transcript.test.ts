/**
 * Transcript tests for the SWIM core (etcd-io/raft's testdata style). Each file in
 * `test/swim/testdata/` is a list of commands (`> ...`) each followed by the output it must
 * produce. Regenerate deliberately with `REWRITE=1 node --import tsx --test test/swim/transcript.test.ts`
 * and review the diff.
 *
 * Commands:
 *   config key=value ...     overrides of the LAN preset (before `add`)
 *   add a b c                create members (address = name)
 *   join b a                 b joins through a (push-pull; delivered at once)
 *   advance MS               move time forward MS ms and tick every member (name order)
 *   deliver [a>b]            deliver queued datagrams (all, or one link), repeatedly until none
 *   drop [a>b]               drop queued datagrams (all, or one link)
 *   crash a                  a stops: datagrams to it are dropped, it is not ticked
 *   events                   events emitted since the last `events`
 *   view a                   a's member list
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createRng, fnv1a32 } from '../../src/core/rng.ts';
import { lanConfig, type SwimConfig } from '../../src/membership/swim/config.ts';
import type { Outgoing } from '../../src/membership/swim/member.ts';
import { SwimMember } from '../../src/membership/swim/member.ts';
import type { SwimBody, SwimUpdate } from '../../src/membership/swim/messages.ts';

const DIR = new URL('./testdata/', import.meta.url);

function updateText(u: SwimUpdate): string {
  switch (u.type) {
    case 'alive':
      return `+alive(${u.name}@${u.incarnation})`;
    case 'suspect':
      return `+suspect(${u.name}@${u.incarnation} by ${u.from})`;
    case 'dead':
      return `+dead(${u.name}@${u.incarnation} by ${u.from})`;
    case 'left':
      return `+left(${u.name}@${u.incarnation})`;
  }
}

function bodyText(b: SwimBody): string {
  switch (b.type) {
    case 'ping':
      return `ping seq=${b.seq} target=${b.target}`;
    case 'ack':
    case 'nack':
      return `${b.type} seq=${b.seq}`;
    case 'ping-req':
      return `ping-req seq=${b.seq} target=${b.target}`;
    case 'gossip':
      return 'gossip';
    case 'push-pull':
    case 'push-pull-reply':
      return `${b.type}${b.type === 'push-pull' && b.join ? ' join' : ''} [${b.states.map((s) => `${s.name}:${s.state}@${s.incarnation}`).join(' ')}]`;
  }
}

function msgText(from: string, o: Outgoing): string {
  const ups = o.packet.updates.map(updateText).join(' ');
  return `${from}>${o.to} ${bodyText(o.packet.body)}${ups ? ` ${ups}` : ''}`;
}

class Transcript {
  private config: SwimConfig = lanConfig();
  private readonly members = new Map<string, SwimMember>();
  private readonly crashed = new Set<string>();
  private queue: { from: string; out: Outgoing }[] = [];
  private nowMs = 0;

  run(cmd: string): string[] {
    const [op, ...args] = cmd.trim().split(/\s+/);
    const out: string[] = [];
    switch (op) {
      case 'config':
        for (const kv of args) {
          const [k, v] = kv.split('=');
          (this.config as unknown as Record<string, unknown>)[k as string] = v === 'true' ? true : v === 'false' ? false : Number(v);
        }
        return out;
      case 'add':
        for (const name of args) {
          this.members.set(name, new SwimMember({ name, address: name, config: { ...this.config }, rng: createRng(fnv1a32(name)), nowMs: this.nowMs }));
        }
        return out;
      case 'join': {
        const [who, seed] = args as [string, string];
        const m = this.get(who);
        m.join([seed]);
        for (const o of m.drainOutgoing()) {
          out.push(msgText(who, o));
          const reply = this.get(o.to).handleStream(who, o.bytes);
          if (reply !== undefined) {
            const target = this.get(o.to);
            out.push(`${o.to}>${who} (reply)`);
            m.handleStream(o.to, reply);
            this.collect(o.to, target);
          }
        }
        this.collect(who, m);
        return out;
      }
      case 'advance':
        this.nowMs += Number(args[0]);
        out.push(`t=${this.nowMs}`);
        for (const [name, m] of [...this.members].sort()) {
          if (this.crashed.has(name)) continue;
          m.tick(this.nowMs);
          for (const line of this.collect(name, m)) out.push(line);
        }
        return out;
      case 'deliver': {
        const link = args[0];
        for (let round = 0; round < 100; round++) {
          const take = this.queue.filter((q) => link === undefined || `${q.from}>${q.out.to}` === link);
          if (take.length === 0) break;
          this.queue = this.queue.filter((q) => !take.includes(q));
          for (const q of take) {
            if (this.crashed.has(q.out.to)) {
              out.push(`${msgText(q.from, q.out)} (lost: ${q.out.to} is down)`);
              continue;
            }
            const to = this.get(q.out.to);
            to.handlePacket(q.from, q.out.bytes);
            for (const line of this.collect(q.out.to, to)) out.push(`  ${line}`);
          }
        }
        return out;
      }
      case 'drop': {
        const link = args[0];
        const dropped = this.queue.filter((q) => link === undefined || `${q.from}>${q.out.to}` === link);
        this.queue = this.queue.filter((q) => !dropped.includes(q));
        for (const q of dropped) out.push(`dropped ${msgText(q.from, q.out)}`);
        return out;
      }
      case 'crash':
        this.crashed.add(args[0] as string);
        this.queue = this.queue.filter((q) => q.from !== args[0]);
        return out;
      case 'events':
        for (const [name, m] of [...this.members].sort()) {
          for (const e of m.drainEvents()) out.push(`${name}: ${e.type} ${e.member.name}@${e.member.incarnation} (source ${e.source}, t=${e.atMs})`);
        }
        return out;
      case 'view':
        for (const v of this.get(args[0] as string).membersView()) out.push(`${v.name} ${v.state} incarnation=${v.incarnation}`);
        return out;
      default:
        throw new Error(`unknown transcript command ${JSON.stringify(cmd)}`);
    }
  }

  private get(name: string): SwimMember {
    const m = this.members.get(name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** Queues a member's datagrams (streams are answered at once) and returns their lines. */
  private collect(name: string, m: SwimMember): string[] {
    const lines: string[] = [];
    for (const o of m.drainOutgoing()) {
      if (o.channel === 'stream') {
        lines.push(`${msgText(name, o)} (stream)`);
        const to = this.members.get(o.to);
        if (to === undefined || this.crashed.has(o.to)) continue;
        const reply = to.handleStream(name, o.bytes);
        if (reply !== undefined) m.handleStream(o.to, reply);
        continue;
      }
      this.queue.push({ from: name, out: o });
      lines.push(msgText(name, o));
    }
    return lines;
  }
}

function runFile(text: string): string {
  const t = new Transcript();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || (line.trim() === '' && out.at(-1) === '')) {
      if (line.startsWith('#')) out.push(line);
      continue;
    }
    if (!line.startsWith('> ')) continue;
    if (out.length > 0 && out.at(-1) !== '' && !out.at(-1)?.startsWith('#')) out.push('');
    out.push(line);
    for (const o of t.run(line.slice(2))) out.push(o);
  }
  return `${out.join('\n')}\n`;
}

describe('SWIM transcripts', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = new URL(file, DIR);
      const expected = readFileSync(path, 'utf8');
      const actual = runFile(expected);
      if (process.env.REWRITE === '1') {
        writeFileSync(path, actual);
        return;
      }
      assert.equal(actual, expected);
    });
  }
});
