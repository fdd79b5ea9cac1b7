import type { ComponentChildren } from 'preact';
import type { StaffContext } from '../staff-route';
import { ASSETS } from '../assets/assets';

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
        </header>
        <main id="main" class={props.narrow ? 'narrow' : props.wide ? 'wide' : undefined}>
          <h1>{title}</h1>
          {props.children}
        </main>
      </body>
    </html>
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
