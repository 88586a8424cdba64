/**
 * Durable file helpers: fsync of a directory (so a create, rename or unlink survives a crash)
 * and the atomic replace (write temp, fsync, rename, fsync dir) every small state file uses.
 * Deliberately left out: O_DIRECT and preallocation.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes a directory's entries (creates, renames, unlinks) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes all of `data` at `position` (loops over short writes). */
export async function writeFully(
  fh: import('node:fs/promises').FileHandle,
  data: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Replaces `path` with `data` atomically: after a crash the file holds either the old or the new
 * content, never a mix. Temp file `<path>.tmp`; callers serialise writes to one path.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await writeFully(fh, data, 0);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}
