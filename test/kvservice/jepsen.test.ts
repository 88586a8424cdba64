/**
 * A small Jepsen-style run against real processes: concurrent clients read, write and
 * compare-and-set a few registers through random nodes while a nemesis SIGKILLs and restarts
 * nodes (at most one down at a time); the history is checked with the linearizability checker.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterkitError } from '../../src/core/errors.ts';
import { createRng } from '../../src/core/rng.ts';
import { b64, GatewayClient, unb64 } from '../../src/http/client.ts';
import { checkLinearizable } from '../../src/sim/checkers/linearizability.ts';
import type { HistoryEvent, KvValue } from '../../src/sim/history.ts';
import { ProcCluster } from './harness.ts';

const KEYS = ['x', 'y', 'z'];
const CLIENTS = 5;
const RUN_MS = 15_000;

describe('Jepsen-style run on a real cluster', () => {
  let c: ProcCluster;
  before(async () => {
    c = await ProcCluster.create({ nodes: 3, proposalTimeoutMs: 2000, snapshotCount: 300, compactionLag: 50 });
    await c.startAll();
  });
  after(async () => {
    await c.destroy();
  });

  it('concurrent read/write/cas under kill-and-restart is linearizable', async () => {
    const rng = createRng(20_261_127);
    const history: HistoryEvent[] = [];
    const t0 = process.hrtime.bigint();
    const now = () => Number(process.hrtime.bigint() - t0);
    let running = true;
    let nextProcess = 0;
    let nextValue = 1;
    const counts = { ok: 0, fail: 0, info: 0 };

    const clientLoop = async (seed: number) => {
      const r = rng.fork(`client-${seed}`);
      let proc = nextProcess++;
      while (running) {
        const node = r.pick(c.nodes);
        const cl = new GatewayClient([node.url], { timeoutMs: 3000, connections: 1 });
        const key = r.pick(KEYS);
        const roll = r.float();
        const f: HistoryEvent['f'] = roll < 0.4 ? 'read' : roll < 0.75 ? 'write' : 'cas';
        let value: HistoryEvent['value'] = null;
        if (f === 'write') value = nextValue++;
        if (f === 'cas') value = [r.range(1, Math.max(2, nextValue)), nextValue++];
        history.push({ process: proc, type: 'invoke', f, key, value, time: now() });
        const done = (type: 'ok' | 'fail' | 'info', v: HistoryEvent['value'], error?: string) => {
          const e: HistoryEvent = { process: proc, type, f, key, value: v, time: now() };
          if (error !== undefined) e.error = error;
          history.push(e);
          counts[type]++;
        };
        try {
          if (f === 'read') {
            const got = await cl.get(key);
            const kv = got.kvs[0];
            done('ok', kv === undefined ? null : Number(kv.value));
          } else if (f === 'write') {
            await cl.put(key, String(value));
            done('ok', value);
          } else {
            const [from, to] = value as [KvValue, KvValue];
            const res = await cl.call<{ succeeded?: boolean }>('/v3/kv/txn', {
              compare: [{ key: b64(key), target: 'VALUE', result: 'EQUAL', value: b64(String(from)) }],
              success: [{ request_put: { key: b64(key), value: b64(String(to)) } }],
              failure: [],
            });
            done(res.succeeded === true ? 'ok' : 'fail', value);
          }
        } catch (err) {
          const definite = err instanceof ClusterkitError ? err.definite : false;
          if (f === 'read' || definite) done('fail', value, String(err));
          else {
            done('info', value, String(err));
            proc = nextProcess++; // a process with an operation in doubt never issues another
          }
        } finally {
          await cl.close();
        }
      }
    };

    const nemesis = async () => {
      const r = rng.fork('nemesis');
      const kills: string[] = [];
      while (running) {
        await new Promise((res) => setTimeout(res, r.range(800, 1600)));
        if (!running) break;
        const victim = r.pick(c.nodes);
        kills.push(victim.name);
        await c.kill(victim);
        await new Promise((res) => setTimeout(res, r.range(500, 1500)));
        c.start(victim);
        await c.waitHealthy([victim]).catch(() => undefined);
      }
      return kills;
    };

    const loops = Array.from({ length: CLIENTS }, (_, i) => clientLoop(i));
    const nem = nemesis();
    await new Promise((res) => setTimeout(res, RUN_MS));
    running = false;
    await Promise.all(loops);
    const kills = await nem;
    await c.waitHealthy();

    assert.ok(kills.length >= 2, `the nemesis killed ${kills.length} nodes`);
    assert.ok(counts.ok >= 100, `only ${counts.ok} operations succeeded (${counts.fail} failed, ${counts.info} in doubt)`);
    const result = checkLinearizable(history);
    assert.equal(
      result.outcome,
      'linearizable',
      result.outcome === 'not-linearizable' ? `key ${result.failure.key}: ${result.failure.reason}` : result.outcome === 'unknown' ? result.detail : '',
    );
    // The final state agrees on every node.
    for (const key of KEYS) {
      const seen = new Set<string>();
      for (const n of c.nodes) {
        const cl = new GatewayClient([n.url], { timeoutMs: 5000, connections: 1 });
        const r = await cl.call<{ kvs?: { value: string }[] }>('/v3/kv/range', { key: b64(key) });
        await cl.close();
        seen.add(unb64(r.kvs?.[0]?.value));
      }
      assert.equal(seen.size, 1, `nodes disagree on ${key}: ${[...seen].join(' / ')}`);
    }
  });
});
