import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Staff passwords, hashed with scrypt (node:crypto). OWASP's recommendation is N = 2^17, r = 8, p = 1,
 * which needs 128 × N × r = 128 MiB of memory per hash (Node's default cap is 32 MiB, hence `maxmem`).
 * The parameters are stored with the hash, so verifying an old hash works after the cost is raised,
 * and `needsRehash` says when a login should store a fresh one.
 */

const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

function derive(password: string, salt: Buffer, log2N: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** log2N;
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * 2 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string, log2N: number): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, log2N, R, P);
  return ['scrypt', log2N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface Parsed {
  log2N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return null;
  const numbers = [Number(n), Number(r), Number(p)];
  if (!numbers.every((x) => Number.isInteger(x) && x > 0 && x <= 32)) return null;
  return { log2N: numbers[0]!, r: numbers[1]!, p: numbers[2]!, salt: Buffer.from(salt, 'base64url'), key: Buffer.from(key, 'base64url') };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const key = await derive(password, parsed.salt, parsed.log2N, parsed.r, parsed.p);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

export function needsRehash(stored: string, log2N: number): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.log2N < log2N || parsed.r !== R || parsed.p !== P;
}

/** A hash of a random password, checked when the account does not exist, so a missing account takes as long. */
let dummy: Promise<string> | undefined;
export function dummyHash(log2N: number): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'), log2N);
  return dummy;
}
