/**
 * A node's data directory: identity file, lock file and the layout every other storage piece
 * lives in.
 *
 *   <dir>/clusterkit.json   {"format":"clusterkit-data/1","clusterId":"...","nodeId":"..."}
 *   <dir>/LOCK              pid of the process that holds the directory
 *   <dir>/hardstate         HardStateFile
 *   <dir>/wal/              Wal segments
 *   <dir>/snap/             SnapshotStore
 *
 * Opening a directory written for another cluster or another node fails with a ConfigError
 * that says which cluster and node it belongs to, so a misconfigured `--data-dir` cannot mix
 * two clusters' logs. The lock is a pid file created with O_EXCL: a second process (or a second
 * open in the same process) is refused while the holder is alive; a lock left by a dead process
 * is taken over. Deliberately left out: advisory `flock` (not exposed by Node) and format
 * migrations (there is one format).
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, CorruptionError } from '../../core/errors.ts';
import type { NodeId } from '../../core/ids.ts';
import { parseNodeId } from '../../core/ids.ts';
import { fsyncDir, writeFileAtomic } from './fsutil.ts';

export const DATA_DIR_FORMAT = 'clusterkit-data/1';

export interface DataDirIdentity {
  readonly clusterId: string;
  readonly nodeId: NodeId;
}

export interface DataDirOptions {
  /** Create the directory and identity file if missing. Default true. */
  readonly create?: boolean;
}

const CLUSTER_ID_RE = /^[\x21-\x7e]{1,128}$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireLock(lockPath: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(`${process.pid}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const text = await readFile(lockPath, 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) {
      throw new ConfigError(
        `data dir is in use by process ${pid} (lock file ${lockPath}); stop that process, or remove the lock file if it is not a clusterkit node`,
      );
    }
    // Stale lock from a process that is gone: take it over.
    await unlink(lockPath).catch(() => undefined);
  }
  throw new ConfigError(`could not acquire the data dir lock ${lockPath}: another process keeps creating it`);
}

export class DataDir {
  readonly path: string;
  readonly identity: DataDirIdentity;
  /** True when this open created the identity file (a fresh node). */
  readonly created: boolean;
  private locked = true;

  private constructor(path: string, identity: DataDirIdentity, created: boolean) {
    this.path = path;
    this.identity = identity;
    this.created = created;
  }

  get walDir(): string {
    return join(this.path, 'wal');
  }
  get snapshotDir(): string {
    return join(this.path, 'snap');
  }
  get hardStatePath(): string {
    return join(this.path, 'hardstate');
  }
  get lockPath(): string {
    return join(this.path, 'LOCK');
  }
  get identityPath(): string {
    return join(this.path, 'clusterkit.json');
  }

  /** Locks and opens `path` for the given cluster and node; creates it if allowed. */
  static async open(path: string, identity: DataDirIdentity, opts: DataDirOptions = {}): Promise<DataDir> {
    if (!CLUSTER_ID_RE.test(identity.clusterId)) {
      throw new ConfigError(`cluster id ${JSON.stringify(identity.clusterId)} must be 1-128 printable ASCII characters without spaces`);
    }
    parseNodeId(identity.nodeId);
    const create = opts.create ?? true;
    if (create) await mkdir(path, { recursive: true });
    const lockPath = join(path, 'LOCK');
    try {
      await acquireLock(lockPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ConfigError(`data dir ${path} does not exist (and creating it was not requested)`);
      }
      throw err;
    }
    try {
      const idPath = join(path, 'clusterkit.json');
      let created = false;
      let text: string | undefined;
      try {
        text = await readFile(idPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (text === undefined) {
        if (!create) throw new ConfigError(`data dir ${path} has no clusterkit.json: it was never initialised`);
        const body = `${JSON.stringify({ format: DATA_DIR_FORMAT, clusterId: identity.clusterId, nodeId: identity.nodeId })}\n`;
        await writeFileAtomic(idPath, new TextEncoder().encode(body));
        created = true;
      } else {
        checkIdentity(idPath, text, identity);
      }
      await mkdir(join(path, 'wal'), { recursive: true });
      await mkdir(join(path, 'snap'), { recursive: true });
      await fsyncDir(path);
      return new DataDir(path, identity, created);
    } catch (err) {
      await unlink(lockPath).catch(() => undefined);
      throw err;
    }
  }

  /** Releases the lock. The DataDir must not be used afterwards. */
  async close(): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await unlink(this.lockPath).catch(() => undefined);
  }
}

function checkIdentity(idPath: string, text: string, want: DataDirIdentity): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptionError(idPath, 0, 'identity file is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CorruptionError(idPath, 0, 'identity file is not a JSON object');
  const rec = parsed as Record<string, unknown>;
  if (rec.format !== DATA_DIR_FORMAT) {
    throw new ConfigError(`data dir identity ${idPath} has format ${JSON.stringify(rec.format)}, expected ${JSON.stringify(DATA_DIR_FORMAT)}`);
  }
  if (typeof rec.clusterId !== 'string' || typeof rec.nodeId !== 'string') {
    throw new CorruptionError(idPath, 0, 'identity file lacks clusterId or nodeId');
  }
  if (rec.clusterId !== want.clusterId) {
    throw new ConfigError(
      `data dir belongs to cluster ${JSON.stringify(rec.clusterId)} (node ${JSON.stringify(rec.nodeId)}), not cluster ${JSON.stringify(want.clusterId)} (see ${idPath}); use this node's own data dir, or an empty one to join as a new member`,
    );
  }
  if (rec.nodeId !== want.nodeId) {
    throw new ConfigError(
      `data dir belongs to node ${JSON.stringify(rec.nodeId)} of cluster ${JSON.stringify(rec.clusterId)}, not node ${JSON.stringify(want.nodeId)} (see ${idPath})`,
    );
  }
}
