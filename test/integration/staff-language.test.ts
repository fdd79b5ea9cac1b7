import demoCampaign from '../../infra/local/demo-campaign.json';
import { loginAs, makeStaff, StaffClient, testClock } from '../helpers/staff-client';
import { clipInReview } from '../helpers/review-fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

/**
 * The staff pages in Belarusian, Russian, Ukrainian and English, over HTTP on the real services: the language
 * from Accept-Language, the switcher on every page (a form setting the `staff_lang` cookie), the rejection
 * reasons in the page's language (never their ids), and prototype names that are no language.
 */
describe('staff pages in four languages', () => {
  let app: TestApp;
  const clock = testClock();

  beforeAll(async () => {
    app = await startTestApp({ STAFF_SCRYPT_LOG2_COST: '12' }, clock.now);
    await seedDemoCampaign(app.deps);
    // A campaign in Russian and English only, whose reason has no Belarusian or Ukrainian text.
    await seedDemoCampaign(app.deps, {
      slug: 'ru-en',
      name: 'Russian and English',
      languages: ['ru', 'en'],
      titles: { ru: demoCampaign.titles.ru, en: demoCampaign.titles.en },
      prompts: { ru: demoCampaign.prompts.ru, en: demoCampaign.prompts.en },
      consent: demoCampaign.consent.filter((text) => ['ru', 'en'].includes(text.language)),
      rejectionReasons: [{ id: 'off_topic_ru', texts: { ru: 'Видео не по теме кампании.', en: 'The clip is off topic.' } }],
    } as never);
  });

  afterAll(async () => {
    await app.close();
  });

  const htmlLang = (html: string) => /<html lang="([^"]*)"/.exec(html)?.[1];
  const options = (html: string, select: string) => {
    const body = new RegExp(`<select id="${select}"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1] ?? '';
    return [...body.matchAll(/<option value(?:="([^"]*)")?[^>]*>([^<]*)<\/option>/g)].map((m) => ({ value: m[1] ?? '', text: m[2]! }));
  };

  async function moderator(email: string): Promise<StaffClient> {
    return loginAs(app, clock, await makeStaff(app, clock.now, 'moderator', { email }));
  }

  test('when the browser asks for Belarusian, then the login page and, after login, the queue are in Belarusian, with <html lang="be">', async () => {
    const anonymous = new StaffClient(app.baseUrl);
    const login = await anonymous.get('/staff/login', { 'accept-language': 'be-BY,be;q=0.9,en;q=0.5' });
    expect(htmlLang(login.html)).toBe('be');
    expect(login.headers.get('content-language')).toBe('be');
    expect(login.html).toContain('Уваход для каманды');
    expect(login.html).not.toContain('Staff login');

    const client = await moderator('be-moderator@example.org');
    const queue = await client.get('/staff/queue', { 'accept-language': 'be' });
    expect(htmlLang(queue.html)).toBe('be');
    expect(queue.html).toContain('Чарга на праверку');
    // The switcher: the current language marked, the others as buttons of one form with the CSRF token.
    expect(queue.html).toMatch(/<strong lang="be" aria-current="true"[^>]*>Беларуская<\/strong>/);
    for (const [code, name] of [['ru', 'Русский'], ['uk', 'Українська'], ['en', 'English']]) expect(queue.html).toContain(`name="lang" value="${code}" lang="${code}" data-lang="${code}">${name}</button>`);
    expect(queue.html).toContain('<input type="hidden" name="back" value="/staff/queue"/>');

    const russian = await client.get('/staff', { 'accept-language': 'ru-RU,ru;q=0.9' });
    expect([htmlLang(russian.html), russian.html.includes('Добро пожаловать')]).toEqual(['ru', true]);
    const other = await client.get('/staff', { 'accept-language': 'de-DE,de;q=0.9' });
    expect([htmlLang(other.html), other.html.includes('Welcome')]).toEqual(['en', true]);
  });

  test('when a moderator picks Ukrainian with the switcher, then a session cookie staff_lang (SameSite=Lax) is set, the same page comes back, and every next page is Ukrainian whatever the browser asks', async () => {
    const client = await moderator('switcher@example.org');
    await client.get('/staff/queue?language=be', { 'accept-language': 'be' });
    const switched = await client.post('/staff/language', { lang: 'uk', back: '/staff/queue?language=be' });
    expect([switched.status, switched.location]).toEqual([303, '/staff/queue?language=be']);
    const cookie = switched.headers.getSetCookie().find((line) => line.startsWith('staff_lang='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/^staff_lang=uk; Path=\/staff; HttpOnly; SameSite=Lax$/);

    for (const path of ['/staff/queue?language=be', '/staff']) {
      const page = await client.get(path, { 'accept-language': 'be' });
      expect([path, htmlLang(page.html)]).toEqual([path, 'uk']);
    }
    expect((await client.get('/staff/queue', { 'accept-language': 'be' })).html).toContain('Черга на перевірку');

    // After logging out, the login page keeps the choice (the cookie is the browser's, not the session's).
    await client.post('/staff/logout', {});
    expect(htmlLang((await client.get('/staff/login', { 'accept-language': 'be' })).html)).toBe('uk');
  });

  test('when the switcher is used before login, then it works with the login form’s CSRF token; without the token it is refused', async () => {
    const anonymous = new StaffClient(app.baseUrl);
    await anonymous.get('/staff/login');
    const refused = await anonymous.request('POST', '/staff/language', { lang: 'ru', back: '/staff/login' }, { accept: 'application/json' });
    expect([refused.status, JSON.parse(refused.html).code]).toEqual([403, 'csrf_invalid']);
    expect(anonymous.cookies.has('staff_lang')).toBe(false);
    const switched = await anonymous.post('/staff/language', { lang: 'ru', back: '/staff/login' });
    expect([switched.status, switched.location]).toEqual([303, '/staff/login']);
    expect((await anonymous.get('/staff/login')).html).toContain('Вход для команды');
  });

  test('when the switcher is given a page elsewhere to go back to, then it goes to the start page instead', async () => {
    const anonymous = new StaffClient(app.baseUrl);
    await anonymous.get('/staff/login');
    for (const back of ['https://evil.example/staff', '//evil.example/staff', '/\\evil.example/staff', '/staff/../api/campaigns', '/stafffoo', 'javascript:alert(1)', '/staff\n/x']) {
      const answer = await anonymous.post('/staff/language', { lang: 'en', back });
      expect([back, answer.status, answer.location]).toEqual([back, 303, '/staff']);
    }
    // A page whose address is longer than the switcher takes back offers the start page instead.
    const long = await anonymous.get(`/staff/login?x=${'a'.repeat(2100)}`);
    expect(long.html).toContain('<input type="hidden" name="back" value="/staff"/>');
    expect((await anonymous.post('/staff/language', { lang: 'uk', back: '/staff' })).status).toBe(303);
  });

  test('when a language the pages do not have, or a name only an object’s prototype has, is asked for (header, cookie or switcher), then the page is English (or the browser’s), never a server error', async () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'xx'];
    for (const name of names) {
      const header = await new StaffClient(app.baseUrl).get('/staff/login', { 'accept-language': name });
      expect([name, header.status, htmlLang(header.html)]).toEqual([name, 200, 'en']);
      const cookie = await new StaffClient(app.baseUrl).get('/staff/login', { 'accept-language': 'ru', cookie: `staff_lang=${name}` });
      expect([name, cookie.status, htmlLang(cookie.html)]).toEqual([name, 200, 'ru']);
      const anonymous = new StaffClient(app.baseUrl);
      await anonymous.get('/staff/login');
      const switched = await anonymous.post('/staff/language', { lang: name, back: '/staff/login' });
      expect([name, switched.status, anonymous.cookies.has('staff_lang')]).toEqual([name, 303, false]);
    }
  });

  test('when a Belarusian-speaking moderator rejects, then the reasons are in Belarusian without their ids; a campaign without Belarusian shows its own default language; English staff read English', async () => {
    const be = await moderator('reasons-be@example.org');
    const { id } = await clipInReview(app, { language: 'uk' });
    const { id: ruClip } = await clipInReview(app, { campaign: 'ru-en', language: 'ru' });
    for (const clip of [id, ruClip]) {
      await be.get(`/staff/review/${clip}`, { 'accept-language': 'be' });
      expect((await be.post(`/staff/review/${clip}/claim`, {})).status).toBe(303);
    }

    const page = await be.get(`/staff/review/${id}`, { 'accept-language': 'be' });
    const reasons = options(page.html, 'reject-template');
    expect(reasons.map((o) => o.value)).toEqual(['', 'identifiable', 'off_topic', 'quality', 'duplicate']);
    expect(reasons.find((o) => o.value === 'off_topic')?.text).toBe('Відэа не адпавядае тэме кампаніі, таму мы не можам яго апублікаваць.');
    for (const reason of reasons) for (const known of ['identifiable', 'off_topic', 'quality', 'duplicate']) expect([reason.text, reason.text.includes(known)]).toEqual([reason.text, false]);

    const ruPage = await be.get(`/staff/review/${ruClip}`, { 'accept-language': 'be' });
    expect(options(ruPage.html, 'reject-template').slice(1)).toEqual([{ value: 'off_topic_ru', text: 'Видео не по теме кампании.' }]);

    const english = await moderator('reasons-en@example.org');
    const enQueue = await english.get('/staff/queue?campaign=ru-en');
    expect(options(enQueue.html, 'bulk-template').find((o) => o.value === 'off_topic_ru')).toEqual({ value: 'off_topic_ru', text: 'The clip is off topic.' });

    // The queue's bulk rejection: the same texts, shortened, no ids.
    const queue = await be.get('/staff/queue', { 'accept-language': 'be' });
    const bulk = options(queue.html, 'bulk-template');
    expect(bulk.find((o) => o.value === 'duplicate')?.text).toBe('Мы ўжо атрымалі гэта відэа. Дзякуй!');
    expect(bulk.find((o) => o.value === 'off_topic_ru')?.text).toBe('Видео не по теме кампании.');
    for (const option of bulk) expect([option.text, /^[a-z_]+:/.test(option.text), Array.from(option.text).length <= 80]).toEqual([option.text, false, true]);

    // A decided clip's state is said in the page's language, not as an id.
    expect((await be.post(`/staff/review/${id}/reject`, { template: 'duplicate' })).status).toBe(303);
    const decided = await be.get(`/staff/review/${id}`, { 'accept-language': 'be' });
    expect(decided.html).toContain('Статус відэа — «адхілена»');
    expect(decided.html).not.toContain('«rejected»');
  });

  test('when an admin reads every staff page in Belarusian, then no English is left but the data and names (the pages have no text outside the message files)', async () => {
    const admin = await loginAs(app, clock, await makeStaff(app, clock.now, 'admin', { email: 'admin-be@example.org' }));
    const { id } = await clipInReview(app, { title: 'Салідарнасць' });
    await admin.get('/staff/queue', { 'accept-language': 'be' });
    expect((await admin.post('/staff/language', { lang: 'be', back: '/staff' })).status).toBe(303);
    const enrolling = new StaffClient(app.baseUrl);
    const newcomer = await makeStaff(app, clock.now, 'moderator', { email: 'newcomer@example.org', totp: false });
    await enrolling.get('/staff/login', { 'accept-language': 'be' });
    expect((await enrolling.post('/staff/login', { email: newcomer.email, password: newcomer.password })).location).toBe('/staff/totp/enrol');

    // What a person reads: text and the labels of controls, without the contributors' and the campaign's own words.
    const readable = (html: string) =>
      html
        .replace(/<(script|style|textarea|svg)\b[\s\S]*?<\/\1>/g, ' ')
        .replace(/<td[^>]*class="details"[\s\S]*?<\/td>/g, ' ')
        .replace(/<[^>]*?(?:aria-label|title|placeholder|alt)="([^"]*)"[^>]*>/g, ' $1 ')
        .replace(/<[^>]+>/g, ' ')
        .replace(/&[a-z]+;|&#\d+;/g, ' ');
    // The data (campaigns, clips), names, and the formats an admin types, which are the same in every language.
    const data = [demoCampaign.name, 'Russian and English', 'Belarusian Independent Trade Union', 'Free them all', 'Solidarity Clips', 'Google Authenticator', 'FreeOTP', 'Aegis', 'English'];
    const formats = ['infra/local/demo-campaign.json: slug, name, titles, prompts, languages, consent', '{"language", "statements": [{"id", "text", "grants", "optional"}]}', '#Solidarity #FreeThemAll', '#rrggbb'];
    const pages = [
      ['/staff', admin],
      ['/staff/queue', admin],
      [`/staff/review/${id}`, admin],
      [`/staff/review/${id}/captions`, admin],
      ['/staff/admin/campaigns', admin],
      ['/staff/admin/campaigns/demo', admin],
      ['/staff/admin/staff', admin],
      ['/staff/admin/audit', admin],
      ['/staff/gallery', admin],
      ['/staff/admin/distribution', admin],
      ['/staff/nothing-here', admin],
      ['/staff/totp/enrol', enrolling],
    ] as const;
    const leftovers: Record<string, string[]> = {};
    for (const [path, client] of pages) {
      const page = await client.get(path, { 'accept-language': 'be' });
      expect([path, htmlLang(page.html)]).toEqual([path, 'be']);
      let text = page.html;
      for (const known of formats) text = text.split(known.replaceAll('"', '&quot;')).join(' ');
      text = readable(text).replace(/[\w.+-]+@[\w.-]+/g, ' ').replace(/#[0-9a-f]{6}\b/g, ' ').replace(/\/staff\/\S*/g, ' ');
      for (const known of [...data, 'demo', 'ru-en']) text = text.split(known).join(' ');
      const english = (text.match(/\b[A-Za-z][a-z]{3,}\b/g) ?? []).filter((word) => !/^(WebVTT|WebP|JPEG|slug|https?)$/.test(word));
      if (english.length > 0) leftovers[path] = english;
    }
    expect(leftovers).toEqual({});
  });
});

