/**
 * Benchmark: the KV state machine's apply path, the work every replica does per committed entry.
 * Encoded puts of 256-byte values to 10,000 random keys (as in the kv-vs-etcd load), half of
 * them tagged for client de-duplication, then a range of 100 keys, a snapshot and a restore.
 * Peer in the same run: JSON-decoding the same entries into a plain Map (no MVCC, validation,
 * de-duplication), to show what the state machine adds per entry.
 *
 *   node --import tsx bench/kv-apply.ts [--entries 100000]
 */
import { createRng } from '../src/core/rng.ts';
import { utf8 } from '../src/kv/bytes.ts';
import { encodeEntry, fromTaggedJson } from '../src/kv/codec.ts';
import { KvStateMachine } from '../src/kv/state-machine.ts';
import type { KvEntry } from '../src/kv/types.ts';

const arg = process.argv.indexOf('--entries');
const entriesCount = arg >= 0 ? Number(process.argv[arg + 1]) : 100_000;
if (!Number.isInteger(entriesCount) || entriesCount < 1) throw new Error('--entries must be a positive integer');

const rng = createRng(1);
const value = new Uint8Array(256).fill(0x61);
const entries: Uint8Array[] = [];
for (let i = 0; i < entriesCount; i++) {
  const entry: KvEntry = { command: { type: 'put', request: { key: utf8(`key-${rng.int(10_000).toString().padStart(5, '0')}`), value } } };
  if (i % 2 === 0) entry.client = { id: `client-${i % 64}`, seq: i + 1 };
  entries.push(encodeEntry(entry));
}

const sm = new KvStateMachine();
let t0 = performance.now();
for (let i = 0; i < entries.length; i++) {
  const r = sm.applyEncoded(entries[i] as Uint8Array, i + 1);
  if (!r.ok) throw new Error(r.error.message);
}
const applyMs = performance.now() - t0;

const decoder = new TextDecoder();
const map = new Map<string, Uint8Array>();
t0 = performance.now();
for (const data of entries) {
  const e = fromTaggedJson(decoder.decode(data)) as KvEntry;
  if (e.command.type === 'put') map.set(Buffer.from(e.command.request.key).toString('latin1'), e.command.request.value);
}
const mapMs = performance.now() - t0;

t0 = performance.now();
const ranges = 1000;
for (let i = 0; i < ranges; i++) sm.range({ key: utf8('key-01000'), rangeEnd: utf8('key-01100') });
const rangeMs = (performance.now() - t0) / ranges;

t0 = performance.now();
const snap = sm.snapshot();
const snapMs = performance.now() - t0;
t0 = performance.now();
KvStateMachine.fromSnapshot(snap);
const restoreMs = performance.now() - t0;

const perSec = (n: number, ms: number) => Math.round(n / (ms / 1000));
console.log(`kv state machine, ${entriesCount} encoded puts (256-byte values, 10,000 keys, half with client tags)`);
console.log(`apply: ${applyMs.toFixed(0)} ms, ${perSec(entriesCount, applyMs)} entries/s`);
console.log(`peer (decode into a Map): ${mapMs.toFixed(0)} ms, ${perSec(entriesCount, mapMs)} entries/s; apply/peer time ratio ${(applyMs / mapMs).toFixed(2)}`);
console.log(`range of 100 keys: ${(rangeMs * 1000).toFixed(0)} us`);
console.log(`snapshot: ${(snap.length / 1048576).toFixed(1)} MiB in ${snapMs.toFixed(0)} ms; restore ${restoreMs.toFixed(0)} ms (revision ${sm.revision}, ${sm.status().keysHeld} keys, history not compacted)`);
