/**
 * The hard-state file: the small piece of state a consensus node must persist before answering
 * (Raft §5: currentTerm, votedFor, and commit), stored as ONE record in the `record.ts` format
 * and replaced atomically (temp file, fsync, rename, directory fsync), so a crash leaves either
 * the old or the new value. The payload is opaque; the Raft host chooses its encoding.
 * Deliberately left out: history of earlier values.
 */
import { readFile } from 'node:fs/promises';
import { CorruptionError } from '../../core/errors.ts';
import { encodeRecord, scanRecords } from './record.ts';
import { writeFileAtomic } from './fsutil.ts';

export const HARD_STATE_RECORD_TYPE = 1;
const HARD_STATE_BYTES_MAX = 1024 * 1024;

export class HardStateFile {
  readonly path: string;
  /** Serialises saves: two overlapping saves must not share the temp file. */
  private chain: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** The last saved payload, or undefined if none was ever saved. Throws CorruptionError if damaged. */
  async load(): Promise<Uint8Array | undefined> {
    let data: Uint8Array;
    try {
      data = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const scan = scanRecords(data, { file: this.path, tornTailAllowed: false, payloadBytesMax: HARD_STATE_BYTES_MAX });
    const rec = scan.records[0];
    if (scan.records.length !== 1 || rec === undefined || rec.type !== HARD_STATE_RECORD_TYPE) {
      throw new CorruptionError(this.path, 0, `hard state file must hold exactly one record of type ${HARD_STATE_RECORD_TYPE}`);
    }
    return rec.payload;
  }

  /** Durably replaces the hard state. Resolves after the rename and directory fsync. */
  save(payload: Uint8Array): Promise<void> {
    if (payload.length > HARD_STATE_BYTES_MAX) {
      return Promise.reject(new RangeError(`hard state of ${payload.length} bytes exceeds ${HARD_STATE_BYTES_MAX}`));
    }
    const bytes = encodeRecord({ type: HARD_STATE_RECORD_TYPE, index: 0, payload });
    const next = this.chain.then(() => writeFileAtomic(this.path, bytes));
    this.chain = next.catch(() => undefined);
    return next;
  }
}
