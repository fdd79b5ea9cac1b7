import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database } from '../../shared/db';
import { AppError } from '../../shared/errors';
import type { StaffUser } from '../../shared/models/staff-user.model';

/**
 * TOTP secrets at rest: AES-256-GCM under TOTP_ENCRYPTION_KEY (from the configuration, never in the
 * database), as `enc:v1:<iv>:<ciphertext>:<tag>` (base64url). The account's id is the additional data, so
 * a sealed secret copied onto another account (by someone who can write the database) does not open there.
 * A plain base32 secret (stored before the key existed, or without one in development) still works; it is
 * sealed at its next use and by `sealPlainTotpSecrets` at the server's start.
 */

const PREFIX = 'enc:v1:';

export function isSealed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

const aad = (userId: string) => Buffer.from(`staff-totp:${userId}`);

/** Seals a secret for one account; without a key it is kept as it is (development only: production requires the key). */
export function sealTotpSecret(key: Buffer | null, secret: string, userId: string): string {
  if (!key) return secret;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(userId));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${PREFIX}${iv.toString('base64url')}:${body.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}`;
}

const unreadable = (cause?: unknown) =>
  new AppError('totp_unreadable', 500, 'A second-factor secret cannot be read: TOTP_ENCRYPTION_KEY is missing, or not the key it was sealed with.', { expected: false, cause });

/** The base32 secret of a stored value (sealed or plain). */
export function openTotpSecret(key: Buffer | null, stored: string, userId: string): string {
  if (!isSealed(stored)) return stored;
  if (!key) throw unreadable();
  const [iv = '', body = '', tag = ''] = stored.slice(PREFIX.length).split(':');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(aad(userId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw unreadable(error);
  }
}

/** Seals one account's plain secret in place (compare-and-set on the plain value: a racing change wins). */
export async function sealIfPlain(db: Database, user: Pick<StaffUser, '_id' | 'totp'>): Promise<boolean> {
  const plain = user.totp.secret;
  if (!db.keys.totp || !plain || isSealed(plain)) return false;
  const sealed = sealTotpSecret(db.keys.totp, plain, user._id.toHexString());
  const result = await db.staffUsers.updateOne({ _id: user._id, 'totp.secret': plain }, { $set: { 'totp.secret': sealed } });
  return result.modifiedCount === 1;
}

/** At start, with a key: every plain secret still stored is sealed. Returns how many were. */
export async function sealPlainTotpSecrets(db: Database): Promise<number> {
  if (!db.keys.totp) return 0;
  const users = await db.staffUsers.find({ 'totp.secret': { $type: 'string' } }).select({ totp: 1 }).lean<Array<Pick<StaffUser, '_id' | 'totp'>>>();
  let sealed = 0;
  for (const user of users) if (await sealIfPlain(db, user)) sealed += 1;
  return sealed;
}
