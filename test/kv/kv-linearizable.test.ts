import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { text, utf8 } from '../../src/kv/bytes.ts';
import { unwrap } from '../../src/kv/errors.ts';
import { KvStateMachine } from '../../src/kv/state-machine.ts';
import type { KvCommand } from '../../src/kv/types.ts';
import { checkLinearizable } from '../../src/sim/checkers/linearizability.ts';
import type { HistoryEvent, KvValue, OpFunction } from '../../src/sim/history.ts';

interface Planned {
  process: number;
  f: OpFunction;
  key: string;
  arg: KvValue | [KvValue, KvValue];
  invokeNs: number;
  pointNs: number;
  completeNs: number;
  seq: number;
}

const enc = (v: KvValue): Uint8Array => utf8(JSON.stringify(v));

/**
 * Clients run register operations against KV state machines: writes and cas go through the
 * "log" (applied to the leader and, `lagNs` later, to a follower) at their linearization point;
 * reads are served by `readFrom` at theirs. Returns the Jepsen history.
 */
function runRegisterWorkload(seed: number, readFrom: 'leader' | 'lagging-follower'): HistoryEvent[] {
  const rng = createRng(seed);
  const clients = 6;
  const opsCount = 600;
  const lagNs = 4000;
  const clock = new Array<number>(clients).fill(0);
  const planned: Planned[] = [];
  let nextValue = 1;
  for (let n = 0; n < opsCount; n++) {
    const c = rng.int(clients);
    const invokeNs = (clock[c] as number) + 1 + rng.int(1000);
    const pointNs = invokeNs + 1 + rng.int(3000);
    const completeNs = pointNs + 1 + rng.int(3000);
    clock[c] = completeNs;
    const key = `k${rng.int(3)}`;
    const f = rng.pick<OpFunction>(['read', 'read', 'write', 'cas']);
    const arg: KvValue | [KvValue, KvValue] = f === 'read' ? null : f === 'write' ? nextValue++ : [rng.chance(0.3) ? null : rng.int(nextValue), nextValue++];
    planned.push({ process: c, f, key, arg, invokeNs, pointNs, completeNs, seq: n });
  }
  const leader = new KvStateMachine();
  const follower = new KvStateMachine();
  const log: { atNs: number; command: KvCommand }[] = [];
  let followerApplied = 0;
  const results = new Map<number, { type: 'ok' | 'fail'; value: KvValue | [KvValue, KvValue] }>();
  const byPoint = planned.slice().sort((a, b) => a.pointNs - b.pointNs || a.seq - b.seq);
  for (const op of byPoint) {
    // The follower applies the log up to lagNs behind.
    while (followerApplied < log.length && (log[followerApplied] as { atNs: number }).atNs <= op.pointNs - lagNs) {
      unwrap(follower.apply({ command: (log[followerApplied] as { command: KvCommand }).command }));
      followerApplied++;
    }
    const key = utf8(op.key);
    if (op.f === 'read') {
      const replica = readFrom === 'leader' ? leader : follower;
      const kv = replica.range({ key }).kvs[0];
      results.set(op.seq, { type: 'ok', value: kv === undefined ? null : (JSON.parse(text(kv.value)) as KvValue) });
      continue;
    }
    let command: KvCommand;
    if (op.f === 'write') {
      command = { type: 'put', request: { key, value: enc(op.arg as KvValue) } };
    } else {
      const [from, to] = op.arg as [KvValue, KvValue];
      command = {
        type: 'txn',
        request: {
          compare: [from === null ? { key, target: 'create', result: 'equal', number: 0 } : { key, target: 'value', result: 'equal', value: enc(from) }],
          success: [{ type: 'put', request: { key, value: enc(to) } }],
          failure: [],
        },
      };
    }
    const response = unwrap(leader.apply({ command }));
    log.push({ atNs: op.pointNs, command });
    const succeeded = response.type !== 'txn' || response.response.succeeded;
    results.set(op.seq, { type: succeeded ? 'ok' : 'fail', value: op.arg });
  }
  // Each client's next invoke is after its previous completion (clock[c]), so clients are sequential.
  const events: { ev: HistoryEvent; order: number }[] = [];
  for (const op of planned) {
    const res = results.get(op.seq) as { type: 'ok' | 'fail'; value: KvValue | [KvValue, KvValue] };
    events.push({ ev: { process: op.process, type: 'invoke', f: op.f, key: op.key, value: op.f === 'read' ? null : op.arg, time: op.invokeNs }, order: 2 * op.seq });
    events.push({ ev: { process: op.process, type: res.type, f: op.f, key: op.key, value: res.value, time: op.completeNs }, order: 2 * op.seq + 1 });
  }
  events.sort((a, b) => a.ev.time - b.ev.time || a.order - b.order);
  return events.map((e) => e.ev);
}

describe('kv + linearizability checker', () => {
  it('a register served by the state machine (reads from the leader) is linearizable', () => {
    for (const seed of [1, 2, 3]) {
      const hist = runRegisterWorkload(seed, 'leader');
      assert.ok(hist.length > 400);
      assert.equal(checkLinearizable(hist).outcome, 'linearizable', `seed ${seed}`);
    }
  });
  it('serving reads from a lagging follower (no ReadIndex) is caught as not linearizable', () => {
    for (const seed of [1, 2, 3]) {
      const r = checkLinearizable(runRegisterWorkload(seed, 'lagging-follower'));
      assert.equal(r.outcome, 'not-linearizable', `seed ${seed}`);
      if (r.outcome === 'not-linearizable') assert.equal(r.failure.unplaceable.f, 'read');
    }
  });
});
