import type { ComponentChildren } from 'preact';
import type { StaffContext } from '../staff-route';
import { ASSETS } from '../assets/assets';
import { LANGUAGES } from '../messages/messages';

const asset = (name: string) => `/staff/assets/${name}?v=${ASSETS[name]!.etag.slice(1, 9)}`;

/** Every staff page: one stylesheet and one script, both from this server; no inline script or style. */
export function Layout(props: { ctx: StaffContext; title: string; narrow?: boolean; wide?: boolean; children: ComponentChildren }) {
  const { ctx, title } = props;
  const { t } = ctx;
  const full = ctx.session?.data.stage === 'full' ? ctx.session.data : null;
  return (
    <html lang={ctx.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${title} · ${t('app.name')}`}</title>
        <link rel="stylesheet" href={asset('staff.css')} />
        <script src={asset('staff.js')} defer />
      </head>
      <body>
        <a class="skip" href="#main">
          {t('nav.skip')}
        </a>
        <header class="top">
          <span class="brand">{t('app.name')}</span>
          {ctx.session && (
            <nav aria-label={t('nav.home')}>
              {full && <a href="/staff">{t('nav.home')}</a>}
              {(full?.role === 'admin' || full?.role === 'moderator') && <a href="/staff/queue">{t('nav.queue')}</a>}
              {(full?.role === 'social' || full?.role === 'admin') && <a href="/staff/gallery">{t('nav.gallery')}</a>}
              {full && <a href="/staff/reports">{t('nav.reports')}</a>}
              {full?.role === 'admin' && <a href="/staff/admin/campaigns">{t('nav.campaigns')}</a>}
              {full?.role === 'admin' && <a href="/staff/admin/staff">{t('nav.staff')}</a>}
              {full?.role === 'admin' && <a href="/staff/admin/audit">{t('nav.audit')}</a>}
              {full?.role === 'admin' && <a href="/staff/admin/queues/">{t('nav.queues')}</a>}
              {full?.role === 'admin' && <a href="/staff/admin/metrics">{t('nav.metrics')}</a>}
              {full?.role === 'admin' && <a href="/staff/admin/distribution">{t('nav.distribution')}</a>}
              <form method="post" action="/staff/logout">
                <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                <button type="submit" class="link">
                  {t('nav.logout')}
                </button>
              </form>
            </nav>
          )}
          <LanguageSwitcher ctx={ctx} />
        </header>
        <main id="main" class={props.narrow ? 'narrow' : props.wide ? 'wide' : undefined}>
          <h1>{title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/**
 * The languages of these pages, each named in itself: a form of buttons, so it works without script. The choice
 * is kept in a cookie for the browser session (POST /staff/language), and the page it was on comes back.
 */
function LanguageSwitcher(props: { ctx: StaffContext }) {
  const { ctx } = props;
  return (
    <nav class="langs" aria-label={ctx.t('lang.choose')}>
      <form method="post" action="/staff/language">
        <Csrf ctx={ctx} />
        <input type="hidden" name="back" value={ctx.here} />
        {Object.entries(LANGUAGES).map(([code, messages]) =>
          code === ctx.lang ? (
            <strong lang={code} aria-current="true" data-lang={code}>
              {messages['lang.name']}
            </strong>
          ) : (
            <button type="submit" class="link" name="lang" value={code} lang={code} data-lang={code}>
              {messages['lang.name']}
            </button>
          ),
        )}
      </form>
    </nav>
  );
}

export function Csrf(props: { ctx: StaffContext }) {
  return <input type="hidden" name="_csrf" value={props.ctx.csrfToken} />;
}

export function ErrorNote(props: { message: string | null | undefined }) {
  return props.message ? (
    <p class="error" role="alert">
      {props.message}
    </p>
  ) : null;
}
