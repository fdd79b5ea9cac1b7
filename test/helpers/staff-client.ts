import http from 'node:http';
import type { StaffRole, StaffUser } from '../../shared/models/staff-user.model';
import { acceptInvite, createAdmin, createInvite, enrolTotp } from '../../server/services/staff.service';
import { generateTotpSecret, hotp, base32Decode, totpStep } from '../../server/services/totp.service';
import type { TestApp } from './test-env';

/** A clock the app reads (deps.now), moved forward by tests: timeouts and TOTP steps without waiting. */
export function testClock() {
  const clock = { offset: 0, now: () => new Date(Date.now() + clock.offset), advance: (ms: number) => void (clock.offset += ms) };
  return clock;
}

export interface Answer {
  status: number;
  location: string | null;
  html: string;
  headers: Headers;
}

/** A browser in miniature: a cookie jar, redirects left to the test, and the forms' CSRF token at hand. */
export class StaffClient {
  readonly cookies = new Map<string, string>();
  lastHtml = '';

  /**
   * `via`: the client's own address (its socket bound to `localAddress`) and headers sent with every request
   * (X-Forwarded-For, say): the requests then go through node:http, as fetch cannot bind a local address.
   */
  constructor(
    readonly baseUrl: string,
    readonly via: { localAddress?: string; headers?: Record<string, string> } = {},
  ) {}

  private send(url: string, init: Omit<RequestInit, 'headers'> & { headers: Record<string, string> }): Promise<Response> {
    if (!this.via.localAddress && !this.via.headers) return fetch(url, init);
    return new Promise((resolve, reject) => {
      const body = typeof init.body === 'string' ? init.body : undefined;
      const headers = { ...this.via.headers, ...init.headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
      const req = http.request(url, { method: init.method, headers, localAddress: this.via.localAddress, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const answer = new Headers();
          for (const [name, value] of Object.entries(res.headers)) for (const one of [value ?? []].flat()) answer.append(name, one);
          const status = res.statusCode ?? 0;
          resolve(new Response([101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: answer }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(method: string, path: string, body?: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Answer> {
    const init: Omit<RequestInit, 'headers'> & { headers: Record<string, string> } = { method, redirect: 'manual', headers: { cookie: this.cookieHeader(), ...headers } };
    if (typeof body === 'string') init.body = body;
    else if (body) {
      init.body = new URLSearchParams(body).toString();
      init.headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const response = await this.send(this.baseUrl + path, init);
    this.remember(response);
    const html = await response.text();
    if ((response.headers.get('content-type') ?? '').includes('html')) this.lastHtml = html;
    return { status: response.status, location: response.headers.get('location'), html, headers: response.headers };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }

  /** Posts a form with the CSRF token of the last page seen (unless the test gives its own). */
  post(path: string, form: Record<string, string>, headers?: Record<string, string>) {
    return this.request('POST', path, { _csrf: this.csrf(), ...form }, headers);
  }

  csrf(): string {
    return /name="_csrf" value="([^"]+)"/.exec(this.lastHtml)?.[1] ?? '';
  }

  session(): string | undefined {
    return this.cookies.get('staff');
  }
}

export const PASSWORD = 'a long test password';

export interface TestStaff {
  user: StaffUser;
  email: string;
  password: string;
  secret: string | null;
}

/** A staff account made through the services (admin: as the CLI does; others: invited and accepted), with TOTP set up when asked. */
export async function makeStaff(app: TestApp, now: () => Date, role: StaffRole, options: { totp?: boolean; campaigns?: string[]; email?: string } = {}): Promise<TestStaff> {
  const db = app.services.db;
  const email = options.email ?? `${role}-${Math.random().toString(36).slice(2, 8)}@example.org`;
  let user: StaffUser;
  if (role === 'admin') user = await createAdmin(db, app.config.staff, email, PASSWORD, now());
  else {
    const inviter = { id: '000000000000000000000000', email: 'test@example.org' };
    const { token } = await createInvite(db, app.config.staff, inviter, { email, role, campaigns: options.campaigns ?? [] }, now());
    user = await acceptInvite(db, app.config.staff, token, PASSWORD, now());
  }
  let secret: string | null = null;
  if (options.totp ?? role !== 'social') {
    secret = generateTotpSecret();
    user = await enrolTotp(db, user._id.toHexString(), secret, hotp(base32Decode(secret), totpStep(now())), now());
  }
  return { user, email, password: PASSWORD, secret };
}

/** A code the server will take now: the next unused step within ±1 of the app's clock (advance the clock when none is left). */
export async function nextCode(app: TestApp, clock: ReturnType<typeof testClock>, staff: TestStaff): Promise<string> {
  const fresh = (await app.services.db.staffUsers.findById(staff.user._id).lean())!;
  let step = Math.max(fresh.totp.lastStep + 1, totpStep(clock.now()) - 1);
  if (step > totpStep(clock.now()) + 1) {
    clock.advance((step - totpStep(clock.now())) * 30_000);
    step = Math.max(fresh.totp.lastStep + 1, totpStep(clock.now()) - 1);
  }
  return hotp(base32Decode(staff.secret!), step);
}

/** Logs in through the pages (password, then the code) and returns the client with a full session. */
export async function loginAs(app: TestApp, clock: ReturnType<typeof testClock>, staff: TestStaff, via: StaffClient['via'] = {}): Promise<StaffClient> {
  const client = new StaffClient(app.baseUrl, via);
  await client.get('/staff/login');
  const first = await client.post('/staff/login', { email: staff.email, password: staff.password });
  if (first.status !== 303) throw new Error(`login refused: ${first.status}`);
  if (first.location === '/staff/login/code') {
    await client.get('/staff/login/code');
    const second = await client.post('/staff/login/code', { code: await nextCode(app, clock, staff) });
    if (second.location !== '/staff') throw new Error(`code refused: ${second.status}`);
  }
  await client.get('/staff');
  return client;
}
