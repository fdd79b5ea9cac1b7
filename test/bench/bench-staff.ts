import type { Config } from '../../shared/config';
import type { Database } from '../../shared/db';
import type { StaffRole } from '../../shared/models/staff-user.model';
import { acceptInvite, createInvite, enrolTotp } from '../../server/services/staff.service';
import { base32Decode, generateTotpSecret, hotp, totpStep } from '../../server/services/totp.service';

/** A staff account for a bench, made through the services (invited and accepted; TOTP set up unless social). */
export async function benchStaff(db: Database, config: Readonly<Config['staff']>, role: Exclude<StaffRole, 'admin'>, campaigns: string[] = []) {
  const email = `bench-${role}-${Math.random().toString(36).slice(2, 8)}@example.org`;
  const password = 'a long bench password';
  const { token } = await createInvite(db, config, { id: '000000000000000000000000', email: 'bench@example.org' }, { email, role, campaigns }, new Date());
  const user = await acceptInvite(db, config, token, password, new Date());
  let secret: string | null = null;
  if (role !== 'social') {
    secret = generateTotpSecret();
    await enrolTotp(db, user._id.toHexString(), secret, hotp(base32Decode(secret), totpStep(new Date())), new Date());
  }
  return { email, password, secret };
}

/**
 * Logs in through the staff pages of a running server (password, then the code of the next time step, as an
 * authenticator would give it once the enrolment's step is used) and returns the Cookie header of the session.
 */
export async function benchLogin(baseUrl: string, staff: { email: string; password: string; secret: string | null }): Promise<string> {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const call = async (method: string, path: string, form?: Record<string, string>) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: { cookie: cookie(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      const at = pair.indexOf('=');
      if (pair.slice(at + 1) === '') jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    const html = await response.text();
    return { status: response.status, location: response.headers.get('location'), csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
  };
  const page = await call('GET', '/staff/login');
  const first = await call('POST', '/staff/login', { _csrf: page.csrf, email: staff.email, password: staff.password });
  if (first.status !== 303) throw new Error(`bench login refused: ${first.status}`);
  if (first.location === '/staff/login/code') {
    const codePage = await call('GET', '/staff/login/code');
    const second = await call('POST', '/staff/login/code', { _csrf: codePage.csrf, code: hotp(base32Decode(staff.secret!), totpStep(new Date()) + 1) });
    if (second.location !== '/staff') throw new Error(`bench login code refused: ${second.status}`);
  }
  return cookie();
}
