/**
 * AES-256-GCM keyring for SWIM traffic (node:crypto), shaped like memberlist's keyring: the
 * primary key encrypts, every installed key is tried to decrypt, so a cluster rotates keys by
 * install (everywhere) → use (everywhere) → remove (the old one). Sealed format:
 * `[version 0x01][12-byte random nonce][ciphertext][16-byte tag]`; the version byte is
 * authenticated as additional data. Leaves out memberlist's legacy PKCS7 mode.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors.ts';

export const SEAL_VERSION = 0x01;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
/** Bytes a sealed message adds to its plaintext. */
export const SEAL_OVERHEAD_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

function keyId(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

export class Keyring {
  private keysList: Buffer[] = [];

  /** `keys[0]` is the primary. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new ConfigError('a keyring needs at least one key');
    for (const k of keys) this.install(k);
  }

  /** Keys given in base64 (as on the command line), the first one primary. */
  static fromBase64(keys: readonly string[]): Keyring {
    return new Keyring(keys.map((k, i) => decodeKey(k, `key ${i + 1}`)));
  }

  /** A fresh random key, base64. */
  static generateKey(): string {
    return randomBytes(KEY_BYTES).toString('base64');
  }

  get primary(): Uint8Array {
    return this.keysList[0] as Buffer;
  }

  keys(): Uint8Array[] {
    return [...this.keysList];
  }

  /** Adds a key that can decrypt (it does not become primary). Idempotent. */
  install(key: Uint8Array): void {
    checkKey(key);
    if (this.keysList.some((k) => k.equals(key))) return;
    this.keysList.push(Buffer.from(key));
  }

  /** Makes an installed key the primary (the one that encrypts). */
  use(key: Uint8Array): void {
    const i = this.keysList.findIndex((k) => k.equals(key));
    if (i < 0) throw new ConfigError(`key ${keyId(key).slice(0, 8)}… is not installed; install it before using it`);
    const [k] = this.keysList.splice(i, 1);
    this.keysList.unshift(k as Buffer);
  }

  /** Removes a key; the primary cannot be removed (use another key first). */
  remove(key: Uint8Array): void {
    const i = this.keysList.findIndex((k) => k.equals(key));
    if (i < 0) return;
    if (i === 0) throw new ConfigError('cannot remove the primary key: make another key primary first (use)');
    this.keysList.splice(i, 1);
  }

  seal(plain: Uint8Array): Uint8Array {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.primary, nonce);
    const header = Buffer.from([SEAL_VERSION]);
    cipher.setAAD(header);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([header, nonce, body, cipher.getAuthTag()]);
  }

  /** The plaintext, or undefined when no installed key authenticates the message. Never throws. */
  open(sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < SEAL_OVERHEAD_BYTES || sealed[0] !== SEAL_VERSION) return undefined;
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const nonce = buf.subarray(1, 1 + NONCE_BYTES);
    const body = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    for (const key of this.keysList) {
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce);
        d.setAAD(buf.subarray(0, 1));
        d.setAuthTag(tag);
        return new Uint8Array(Buffer.concat([d.update(body), d.final()]));
      } catch {
        // Wrong key or tampered: try the next key.
      }
    }
    return undefined;
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new ConfigError(`an AES-256-GCM key must be ${KEY_BYTES} bytes, got ${key.length}`);
}

export function decodeKey(base64: string, what = 'key'): Uint8Array {
  const trimmed = base64.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new ConfigError(`${what} is not base64`);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new ConfigError(`${what} decodes to ${key.length} bytes; an AES-256 key is ${KEY_BYTES} bytes (44 base64 characters; try \`clusterkit gossip keygen\`)`);
  }
  return new Uint8Array(key);
}
