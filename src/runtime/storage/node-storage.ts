/**
 * Everything one node keeps on disk, opened in the right order: the data dir (lock, identity),
 * the WAL (recovered), the hard state and the newest snapshot. `persist` is the host's half of
 * the Ready contract: it resolves once the batch's WAL records and (if given) the new hard state
 * are durable, so the host sends the messages that depend on them only after it resolves.
 * `compact` installs a snapshot and then releases the WAL segments it made redundant.
 *
 * Hard state lives in its own small file (replaced atomically): it changes only on a new term
 * or vote, so the common Ready (entries only) costs one fdatasync. A host that also wants the
 * commit index durable can append it as a WAL record in the same batch instead.
 * Deliberately left out: the Raft-specific encodings (the host chooses its record types).
 */
import type { DataDirIdentity } from './datadir.ts';
import { DataDir } from './datadir.ts';
import { HardStateFile } from './hardstate.ts';
import type { WalRecord } from './record.ts';
import type { StoredSnapshot, StoredSnapshotMeta, SnapshotStoreOptions } from './snapshot.ts';
import { SnapshotStore } from './snapshot.ts';
import type { WalOptions, WalRecovery } from './wal.ts';
import { Wal } from './wal.ts';

export interface NodeStorageOptions {
  readonly wal?: WalOptions;
  readonly snapshots?: SnapshotStoreOptions;
  /** Create the data dir if missing. Default true. */
  readonly create?: boolean;
}

export interface NodeRecovery extends WalRecovery {
  /** True when this open initialised a fresh data dir. */
  readonly created: boolean;
  readonly hardState: Uint8Array | undefined;
  readonly snapshot: StoredSnapshot | undefined;
}

export interface PersistBatch {
  readonly records?: readonly WalRecord[];
  readonly hardState?: Uint8Array;
}

export class NodeStorage {
  readonly dataDir: DataDir;
  readonly wal: Wal;
  readonly hardState: HardStateFile;
  readonly snapshots: SnapshotStore;

  private constructor(dataDir: DataDir, wal: Wal, hardState: HardStateFile, snapshots: SnapshotStore) {
    this.dataDir = dataDir;
    this.wal = wal;
    this.hardState = hardState;
    this.snapshots = snapshots;
  }

  /**
   * Locks and opens the node's data dir. Throws ConfigError for a dir of another cluster or
   * node or one in use, CorruptionError (file and offset) for damaged data.
   */
  static async open(path: string, identity: DataDirIdentity, opts: NodeStorageOptions = {}): Promise<{ storage: NodeStorage; recovery: NodeRecovery }> {
    const dataDir = await DataDir.open(path, identity, opts.create === undefined ? {} : { create: opts.create });
    let wal: Wal | undefined;
    try {
      const snapshots = await SnapshotStore.open(dataDir.snapshotDir, opts.snapshots);
      const snapshot = await snapshots.latest();
      const hardState = new HardStateFile(dataDir.hardStatePath);
      const hs = await hardState.load();
      const opened = await Wal.open(dataDir.walDir, opts.wal);
      wal = opened.wal;
      const recovery: NodeRecovery = { ...opened.recovery, created: dataDir.created, hardState: hs, snapshot };
      return { storage: new NodeStorage(dataDir, opened.wal, hardState, snapshots), recovery };
    } catch (err) {
      await wal?.close();
      await dataDir.close();
      throw err;
    }
  }

  /** Makes a batch durable: WAL records (one write, one fdatasync, shared with concurrent calls) and hard state. */
  async persist(batch: PersistBatch): Promise<void> {
    const work: Promise<void>[] = [];
    if (batch.records !== undefined && batch.records.length > 0) work.push(this.wal.append(batch.records));
    if (batch.hardState !== undefined) work.push(this.hardState.save(batch.hardState));
    await Promise.all(work);
  }

  /**
   * Installs a snapshot durably, then deletes old snapshots and every WAL segment whose records
   * all have index <= meta.index. Returns the deleted files.
   */
  async compact(meta: StoredSnapshotMeta, data: Uint8Array): Promise<{ snapshot: string; removedSnapshots: string[]; removedSegments: string[] }> {
    const { file, removed } = await this.snapshots.install(meta, data);
    const removedSegments = await this.wal.releaseBelow(meta.index + 1);
    return { snapshot: file, removedSnapshots: removed, removedSegments };
  }

  /** Flushes pending appends and releases the data dir lock. */
  async close(): Promise<void> {
    await this.wal.close();
    await this.dataDir.close();
  }
}
