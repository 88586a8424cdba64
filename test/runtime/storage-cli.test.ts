import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataDir } from '../../src/runtime/storage/datadir.ts';
import { inspectStorage } from '../../src/runtime/storage/inspect.ts';
import { Wal } from '../../src/runtime/storage/wal.ts';

const BIN = new URL('../../bin/clusterkit.mjs', import.meta.url).pathname;

describe('clusterkit storage check', () => {
  it('reports a healthy data dir (exit 0), then names file and offset of a flipped byte (exit 1)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ck-cli-'));
    try {
      const dd = await DataDir.open(join(root, 'n1'), { clusterId: 'demo', nodeId: 'n1' });
      const { wal } = await Wal.open(dd.walDir, { segmentBytes: 4096 });
      for (let i = 1; i <= 50; i++) await wal.append([{ type: 1, index: i, payload: new Uint8Array(100).fill(i) }]);
      await wal.close();
      await dd.close();
      const report = await inspectStorage(dd.path);
      assert.deepEqual(report.identity, { clusterId: 'demo', nodeId: 'n1' });
      assert.deepEqual(
        report.segments.map((s) => [s.firstIndex, s.lastIndex]),
        [
          [1, 33],
          [34, 50],
        ],
      );
      const ok = spawnSync(process.execPath, [BIN, 'storage', 'check', dd.path], { encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /cluster demo, node n1/);
      assert.match(ok.stdout, /ok: no corruption found/);
      const seg = join(dd.walDir, '0000000000000000.wal');
      const data = await readFile(seg);
      data[124 * 3 + 50]! ^= 0xff; // inside the 4th record (124 bytes each)
      await writeFile(seg, data);
      const bad = spawnSync(process.execPath, [BIN, 'storage', 'check', dd.path], { encoding: 'utf8' });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /corrupt data in .*0000000000000000\.wal at offset 372: record payload checksum mismatch/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
