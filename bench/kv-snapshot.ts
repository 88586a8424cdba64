/**
 * Benchmark: how long a KV snapshot stalls the event loop. Builds a state machine holding
 * `--versions` versions (puts of 256-byte values to `--keys` keys, no compaction, the worst case
 * a member meets before auto-compaction), then measures with perf_hooks.monitorEventLoopDelay:
 *   - sync: `snapshot()` built in one call (what a member did before chunked snapshots);
 *   - chunked: `beginSnapshot()` stepped `--chunk` versions per event-loop turn (setImmediate)
 *     while a timer keeps ticking, as the node does.
 * The longest stall is the figure that matters (a member that stalls longer than an election
 * timeout loses its leadership). Peer in the same run: the sync build.
 *
 *   node --import tsx bench/kv-snapshot.ts [--versions 130000] [--keys 100000] [--chunk 2000] [--chunked-only]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createRng } from '../src/core/rng.ts';
import { utf8 } from '../src/kv/bytes.ts';
import { KvStateMachine } from '../src/kv/state-machine.ts';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}
const versions = flag('--versions', 130_000);
const keys = flag('--keys', 100_000);
const chunk = flag('--chunk', 2000);

const rng = createRng(1);
const sm = new KvStateMachine();
for (let i = 0; i < versions; i++) {
  const value = new Uint8Array(256).fill(97 + (i % 26));
  const r = sm.apply({ command: { type: 'put', request: { key: utf8(`key-${rng.int(keys).toString().padStart(6, '0')}`), value } } }, i + 1);
  if (!r.ok) throw new Error(r.error.message);
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function measure(label: string, build: () => Promise<Uint8Array>): Promise<void> {
  // Warm the code path once, then measure.
  await build();
  await turn();
  const h = monitorEventLoopDelay({ resolution: 1 });
  // A second measure of the same thing: the longest gap between two 1 ms timer callbacks.
  let last = performance.now();
  let gapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
  }, 1);
  h.enable();
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const bytes = await build();
  const totalMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  clearInterval(ticker);
  const maxMs = h.max / 1e6;
  console.log(`${label.padEnd(8)} ${String(bytes.length).padStart(10)} bytes  total ${totalMs.toFixed(0).padStart(5)} ms  longest event-loop stall ${maxMs.toFixed(1).padStart(7)} ms (timer gap ${gapMs.toFixed(1)} ms)  p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms`);
}

console.log(`kv snapshot of ${versions} versions over ${keys} keys (256-byte values), chunk ${chunk} versions/turn`);
if (!process.argv.includes('--chunked-only')) await measure('sync', async () => sm.snapshot());
const withChunks = sm as unknown as { beginSnapshot?: () => { step(n: number): boolean; finish(): Uint8Array } };
if (typeof withChunks.beginSnapshot === 'function') {
  const begin = withChunks.beginSnapshot.bind(sm);
  let longestStepMs = 0;
  let finishMs = 0;
  await measure('chunked', async () => {
    longestStepMs = 0;
    let t0 = performance.now();
    const b = begin();
    for (;;) {
      const done = b.step(chunk);
      longestStepMs = Math.max(longestStepMs, performance.now() - t0);
      if (done) break;
      await turn();
      t0 = performance.now();
    }
    t0 = performance.now();
    const out = b.finish();
    finishMs = performance.now() - t0;
    return out;
  });
  console.log(`chunked: longest begin/step ${longestStepMs.toFixed(1)} ms, finish (one copy of the bytes) ${finishMs.toFixed(1)} ms; the rest of the longest stall is garbage collection or waiting for a CPU`);
  const a = sm.snapshot();
  const b = begin();
  while (!b.step(chunk)) await turn();
  if (!Buffer.from(a).equals(b.finish())) throw new Error('chunked and sync snapshots differ');
}
