import { createHash, randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { Config } from '../../shared/config';
import type { Database } from '../../shared/db';
import { AppError, isDuplicateKey } from '../../shared/errors';
import { ROLES_NEEDING_TOTP, type StaffInvite, type StaffRole, type StaffUser } from '../../shared/models/staff-user.model';
import { appendAudit } from './audit.service';
import { dummyHash, hashPassword, needsRehash, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from './password.service';
import { generateTotpSecret, matchTotp } from './totp.service';
import { openTotpSecret, sealIfPlain, sealTotpSecret } from './totp-secrets';

/**
 * Staff accounts: the first admin (from the command line), invitations, login with lockout, the second
 * factor, role changes. Every action is written to the audit log. Services never see req/res.
 */

type StaffConfig = Readonly<Config['staff']>;
export type Actor = { id: string; email: string };

export function actorOf(user: Pick<StaffUser, '_id' | 'email'>): Actor {
  return { id: user._id.toHexString(), email: user.email };
}

export function needsTotp(role: StaffRole): boolean {
  return ROLES_NEEDING_TOTP.includes(role);
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function checkPasswordRules(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new AppError('password_too_short', 400, `The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`, { details: { min: PASSWORD_MIN_LENGTH } });
  }
  if (password.length > PASSWORD_MAX_LENGTH) throw new AppError('password_too_long', 400, `The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);
}


export async function createAdmin(db: Database, config: StaffConfig, emailInput: string, password: string, now: Date): Promise<StaffUser> {
  const email = normaliseEmail(emailInput);
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new AppError('invalid_email', 400, 'That is not an e-mail address.');
  checkPasswordRules(password);
  let user: StaffUser;
  try {
    user = (await db.staffUsers.create({ email, role: 'admin', campaigns: [], passwordHash: await hashPassword(password, config.scryptLog2Cost) })).toObject();
  } catch (error) {
    if (isDuplicateKey(error)) throw new AppError('email_taken', 409, 'There is already a staff account with this e-mail address.');
    throw error;
  }
  await appendAudit(db, { actor: { id: null, email: 'command line' }, action: 'admin_created', target: { kind: 'staff', id: user._id.toHexString() }, details: { email } }, now);
  return user;
}

/** One message for a wrong address, a wrong password and a locked account: the page tells no one which accounts exist. */
export const loginFailed = () =>
  new AppError('login_failed', 401, 'The e-mail address or password is wrong, or the account is locked for a while after too many attempts.');

/** What the staff service asks about one account from the address a login comes from (server/web/login-limiter.ts, createLoginLimiter). */
export interface LoginGuard {
  /** Seconds this account stays locked from this address (0: not locked). */
  lockedFor(user: { id: string; unlockedAt: Date | null }, now: Date): Promise<number>;
  /** Counts a wrong password or code; returns until when the account is now locked from here, or null. */
  failed(user: { id: string; unlockedAt: Date | null }, now: Date): Promise<Date | null>;
  succeeded(user: { id: string }): Promise<void>;
}

/** The per-address locks when the caller has none (the command line, tests of the service alone). */
const NO_GUARD: LoginGuard = { lockedFor: async () => 0, failed: async () => null, succeeded: async () => undefined };

const guardUser = (user: StaffUser) => ({ id: user._id.toHexString(), unlockedAt: user.unlockedAt ?? null });

/**
 * A wrong password or code: counted for this address (a lock from here after STAFF_LOGIN_MAX_FAILURES) and
 * for the account from everywhere (a lock for everyone after STAFF_ACCOUNT_MAX_FAILURES); both audited.
 */
async function recordFailure(db: Database, config: StaffConfig, user: StaffUser, now: Date, stage: 'password' | 'code', guard: LoginGuard): Promise<void> {
  const updated = await db.staffUsers.findOneAndUpdate({ _id: user._id }, { $inc: { failedLogins: 1 } }, { returnDocument: 'after' }).lean<StaffUser>();
  await appendAudit(db, { actor: actorOf(user), action: 'login_failed', details: { stage } }, now);
  const lockedHere = await guard.failed(guardUser(user), now);
  if (lockedHere) await appendAudit(db, { actor: actorOf(user), action: 'account_locked', details: { until: lockedHere.toISOString(), scope: 'one address' } }, now);
  if (updated && updated.failedLogins >= config.accountMaxFailures) {
    const lockedUntil = new Date(now.getTime() + config.lockoutSeconds * 1000);
    await db.staffUsers.updateOne({ _id: user._id }, { $set: { lockedUntil, failedLogins: 0 } });
    await appendAudit(db, { actor: actorOf(user), action: 'account_locked', details: { until: lockedUntil.toISOString(), scope: 'every address' } }, now);
  }
}

async function isLocked(user: StaffUser, now: Date, guard: LoginGuard): Promise<boolean> {
  return (user.lockedUntil !== null && user.lockedUntil.getTime() > now.getTime()) || (await guard.lockedFor(guardUser(user), now)) > 0;
}

/** Checks e-mail and password. Failures count towards the lockouts; a locked account is refused even with the right password. */
export async function checkPassword(db: Database, config: StaffConfig, emailInput: string, password: string, now: Date, guard: LoginGuard = NO_GUARD): Promise<StaffUser> {
  const user = await db.staffUsers.findOne({ email: normaliseEmail(emailInput) }).lean<StaffUser>();
  if (!user || user.disabled) {
    await verifyPassword(password, await dummyHash(config.scryptLog2Cost));
    throw loginFailed();
  }
  const good = await verifyPassword(password, user.passwordHash);
  if (await isLocked(user, now, guard)) throw loginFailed();
  if (!good) {
    await recordFailure(db, config, user, now, 'password', guard);
    throw loginFailed();
  }
  const set: Record<string, unknown> = {};
  if (needsRehash(user.passwordHash, config.scryptLog2Cost)) set.passwordHash = await hashPassword(password, config.scryptLog2Cost);
  // A password alone resets the count only for accounts without a second factor; otherwise the code does.
  if (!user.totp.secret) {
    set.failedLogins = 0;
    await guard.succeeded(guardUser(user));
  }
  if (Object.keys(set).length > 0) await db.staffUsers.updateOne({ _id: user._id }, { $set: set });
  if (!user.totp.secret && !needsTotp(user.role)) await appendAudit(db, { actor: actorOf(user), action: 'login', details: { secondFactor: false } }, now);
  return user;
}

/** An admin ends every lock on an account (after wrong passwords or codes, from one address or all); audited. */
export async function unlockAccount(db: Database, by: { id: string | null; email: string | null }, who: { id: string } | { email: string }, now: Date): Promise<StaffUser> {
  const filter = 'id' in who ? (Types.ObjectId.isValid(who.id) ? { _id: who.id } : null) : { email: normaliseEmail(who.email) };
  const user = filter && (await db.staffUsers.findOneAndUpdate(filter, { $set: { lockedUntil: null, failedLogins: 0, unlockedAt: now } }, { returnDocument: 'after' }).lean<StaffUser>());
  if (!user) throw new AppError('staff_not_found', 404, 'There is no such staff account.');
  await appendAudit(db, { actor: by, action: 'account_unlocked', target: { kind: 'staff', id: user._id.toHexString() }, details: { email: user.email } }, now);
  return user;
}

export const codeWrong = () => new AppError('code_wrong', 401, 'That code is wrong or was already used. Wait for the next one and try again.');

/** Where each accepted code's time step is recorded, once: `<user id>:<step>`. */
const TOTP_STEPS = 'staff_totp_steps';

/**
 * Takes a code's time step for good, or returns false when it was taken already. An insert with a known
 * `_id` is refused atomically by MongoDB and FerretDB alike (FerretDB applies a conditional update as a read
 * then a write, so two logins racing with one code could both pass a compare-and-set on `totp.lastStep`).
 */
async function useTotpStep(db: Database, userId: string, step: number): Promise<boolean> {
  try {
    await db.connection.db!.collection<{ _id: string }>(TOTP_STEPS).insertOne({ _id: `${userId}:${step}` });
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

/** The second factor at login. A code is accepted once: its time step is taken by an insert-unique (useTotpStep). */
export async function checkSecondFactor(db: Database, config: StaffConfig, userId: string, code: string, now: Date, guard: LoginGuard = NO_GUARD): Promise<StaffUser> {
  const user = await db.staffUsers.findById(userId).lean<StaffUser>();
  if (!user || user.disabled || !user.totp.secret || (await isLocked(user, now, guard))) throw loginFailed();
  const step = matchTotp(openTotpSecret(db.keys.totp, user.totp.secret, user._id.toHexString()), code.trim(), now, user.totp.lastStep);
  // A secret stored before the key existed is sealed at its first use.
  await sealIfPlain(db, user);
  const claimed = step !== null && (await useTotpStep(db, user._id.toHexString(), step));
  if (claimed) await db.staffUsers.updateOne({ _id: user._id }, { $set: { 'totp.lastStep': step, failedLogins: 0 } });
  if (!claimed) {
    await recordFailure(db, config, user, now, 'code', guard);
    throw codeWrong();
  }
  await guard.succeeded(guardUser(user));
  await appendAudit(db, { actor: actorOf(user), action: 'login', details: { secondFactor: true } }, now);
  return user;
}

/** How long a key shown for setting up TOTP stays the one shown (and accepted) if no code comes back. */
export const PENDING_TOTP_SECONDS = 24 * 3600;

/**
 * The key to show on the set-up page: the account's pending one while it lasts (every visit, every session,
 * every device shows the same), else a new one, stored sealed with its expiry. Two pages opened at once
 * agree: the second write loses its compare-and-set and reads the first one's key.
 */
export async function pendingTotpSecret(db: Database, userId: string, now: Date): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const user = await db.staffUsers.findById(userId).lean<StaffUser>();
    if (!user) throw loginFailed();
    if (user.totp.secret) throw new AppError('already_enrolled', 409, 'A second factor is already set up for this account.');
    const pending = user.totp.pending ?? null;
    if (pending && pending.expiresAt.getTime() > now.getTime()) return openTotpSecret(db.keys.totp, pending.secret, userId);
    const secret = generateTotpSecret();
    const next = { secret: sealTotpSecret(db.keys.totp, secret, userId), expiresAt: new Date(now.getTime() + PENDING_TOTP_SECONDS * 1000) };
    const same = pending ? { 'totp.pending.secret': pending.secret } : { 'totp.pending': null };
    const taken = await db.staffUsers.updateOne({ _id: user._id, 'totp.secret': null, ...same }, { $set: { 'totp.pending': next } });
    if (taken.modifiedCount === 1) return secret;
  }
  throw new AppError('enrol_busy', 409, 'The set-up page was opened several times at once. Please reload it.');
}

/** The pending key a code is checked against (null when none, or expired: the page then shows a new one). */
export async function currentPendingTotpSecret(db: Database, userId: string, now: Date): Promise<string | null> {
  const pending = (await db.staffUsers.findById(userId).lean<StaffUser>())?.totp.pending ?? null;
  if (!pending || pending.expiresAt.getTime() <= now.getTime()) return null;
  return openTotpSecret(db.keys.totp, pending.secret, userId);
}

/** Enrolment: the secret shown to the person is stored only once a code from it comes back. */
export async function enrolTotp(db: Database, userId: string, secret: string, code: string, now: Date): Promise<StaffUser> {
  const step = matchTotp(secret, code.trim(), now, 0);
  if (step === null) throw codeWrong();
  const user = await db.staffUsers
    .findOneAndUpdate({ _id: userId, 'totp.secret': null }, { $set: { totp: { secret: sealTotpSecret(db.keys.totp, secret, userId), lastStep: step, pending: null }, failedLogins: 0 } }, { returnDocument: 'after' })
    .lean<StaffUser>();
  if (!user) throw new AppError('already_enrolled', 409, 'A second factor is already set up for this account.');
  await appendAudit(db, { actor: actorOf(user), action: 'totp_enrolled' }, now);
  await appendAudit(db, { actor: actorOf(user), action: 'login', details: { secondFactor: true } }, now);
  return user;
}

/** For a lost phone (command line only): the next login sets up a new second factor. The caller ends the sessions. */
export async function resetTotp(db: Database, emailInput: string, now: Date): Promise<StaffUser> {
  const email = normaliseEmail(emailInput);
  const user = await db.staffUsers.findOneAndUpdate({ email }, { $set: { totp: { secret: null, lastStep: 0, pending: null } } }, { returnDocument: 'after' }).lean<StaffUser>();
  if (!user) throw new AppError('staff_not_found', 404, `There is no staff account ${email}.`);
  await appendAudit(db, { actor: { id: null, email: 'command line' }, action: 'totp_reset', target: { kind: 'staff', id: user._id.toHexString() }, details: { email } }, now);
  return user;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface NewInvite {
  email: string;
  role: StaffRole;
  campaigns: string[];
}

/** An invitation: returns the one-time token (only its hash is stored; it is shown once, to the admin). */
export async function createInvite(db: Database, config: StaffConfig, by: Actor, input: NewInvite, now: Date): Promise<{ token: string; invite: StaffInvite }> {
  const email = normaliseEmail(input.email);
  if (await db.staffUsers.exists({ email })) throw new AppError('email_taken', 409, 'There is already a staff account with this e-mail address.');
  await checkCampaignsExist(db, input.campaigns);
  const token = randomBytes(32).toString('base64url');
  const campaigns = input.role === 'admin' ? [] : [...new Set(input.campaigns)];
  const invite = (
    await db.staffInvites.create({ tokenHash: tokenHash(token), email, role: input.role, campaigns, invitedBy: new Types.ObjectId(by.id), expiresAt: new Date(now.getTime() + config.inviteSeconds * 1000) })
  ).toObject();
  await appendAudit(db, { actor: by, action: 'invite_created', target: { kind: 'invite', id: invite._id.toHexString() }, details: { email, role: input.role, campaigns } }, now);
  return { token, invite };
}

async function checkCampaignsExist(db: Database, slugs: string[]): Promise<void> {
  for (const slug of new Set(slugs)) {
    if (!(await db.campaigns.exists({ slug }))) throw new AppError('campaign_not_found', 400, `There is no campaign "${slug}".`, { details: { campaign: slug } });
  }
}

export const inviteInvalid = () => new AppError('invite_invalid', 404, 'This invitation link is not valid: it was used already, or it has expired. Ask an admin for a new one.');

export async function findInvite(db: Database, token: string, now: Date): Promise<StaffInvite> {
  const invite = await db.staffInvites.findOne({ tokenHash: tokenHash(token) }).lean<StaffInvite>();
  if (!invite || invite.usedAt || invite.expiresAt.getTime() <= now.getTime()) throw inviteInvalid();
  return invite;
}

/** Uses the invitation (once: compare-and-set on `usedAt`) and creates the account. */
export async function acceptInvite(db: Database, config: StaffConfig, token: string, password: string, now: Date): Promise<StaffUser> {
  checkPasswordRules(password);
  const invite = await findInvite(db, token, now);
  const passwordHash = await hashPassword(password, config.scryptLog2Cost);
  const claimed = await db.staffInvites.findOneAndUpdate({ _id: invite._id, usedAt: null }, { $set: { usedAt: now } }).lean<StaffInvite>();
  if (!claimed) throw inviteInvalid();
  let user: StaffUser;
  try {
    user = (await db.staffUsers.create({ email: invite.email, role: invite.role, campaigns: invite.campaigns, passwordHash })).toObject();
  } catch (error) {
    if (isDuplicateKey(error)) throw new AppError('email_taken', 409, 'There is already a staff account with this e-mail address.');
    throw error;
  }
  await appendAudit(db, { actor: actorOf(user), action: 'invite_accepted', target: { kind: 'invite', id: invite._id.toHexString() }, details: { role: user.role, campaigns: user.campaigns } }, now);
  return user;
}

export async function listStaff(db: Database): Promise<StaffUser[]> {
  const users = await db.staffUsers.find().select({ passwordHash: 0, 'totp.secret': 0, 'totp.pending': 0 }).lean<StaffUser[]>();
  return users.sort((a, b) => a.email.localeCompare(b.email));
}

/** A role change ends the person's sessions (the caller does that: sessions are not the database's). */
export async function changeRole(db: Database, by: Actor, userId: string, role: StaffRole, campaignsInput: string[], now: Date): Promise<StaffUser> {
  if (by.id === userId) throw new AppError('own_role', 400, 'You cannot change your own role; ask another admin.');
  await checkCampaignsExist(db, campaignsInput);
  const campaigns = role === 'admin' ? [] : [...new Set(campaignsInput)];
  const before = await db.staffUsers.findById(userId).lean<StaffUser>();
  if (!before) throw new AppError('staff_not_found', 404, 'There is no such staff account.');
  const user = (await db.staffUsers.findOneAndUpdate({ _id: userId }, { $set: { role, campaigns } }, { returnDocument: 'after' }).lean<StaffUser>())!;
  await appendAudit(db, { actor: by, action: 'role_changed', target: { kind: 'staff', id: userId }, details: { email: user.email, from: before.role, to: role, campaigns } }, now);
  return user;
}

/** Disables (someone who left) or re-enables an account; the caller ends the sessions. */
export async function setDisabled(db: Database, by: Actor, userId: string, disabled: boolean, now: Date): Promise<StaffUser> {
  if (by.id === userId) throw new AppError('own_role', 400, 'You cannot change your own access; ask another admin.');
  const user = await db.staffUsers.findOneAndUpdate({ _id: userId }, { $set: { disabled } }, { returnDocument: 'after' }).lean<StaffUser>();
  if (!user) throw new AppError('staff_not_found', 404, 'There is no such staff account.');
  await appendAudit(db, { actor: by, action: disabled ? 'account_disabled' : 'account_enabled', target: { kind: 'staff', id: userId }, details: { email: user.email } }, now);
  return user;
}

/** Whether a person may work on a campaign: admins and people without a limit on every one. */
export function maySeeCampaign(user: { role: StaffRole; campaigns: string[] }, slug: string): boolean {
  return user.role === 'admin' || user.campaigns.length === 0 || user.campaigns.includes(slug);
}
