import { en } from '../messages/en';
import { statusName, type MessageKey } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Layout } from './layout';

export function HomePage(props: { ctx: StaffContext }) {
  const { ctx } = props;
  const { t } = ctx;
  const me = ctx.session!.data;
  return (
    <Layout ctx={ctx} title={t('home.title')}>
      <p>{t('home.signedInAs', { email: me.email, role: t(`role.${me.role}`) })}</p>
      <p>{me.campaigns.length === 0 || me.role === 'admin' ? t('home.campaignsAll') : t('home.campaignsSome', { campaigns: me.campaigns.join(', ') })}</p>
      {(me.role === 'admin' || me.role === 'moderator') && (
        <p>
          <a href="/staff/queue">{t('home.review')}</a>
        </p>
      )}
      {me.role === 'admin' && (
        <>
          <h2>{t('home.adminLinks')}</h2>
          <ul>
            <li>
              <a href="/staff/admin/campaigns">{t('campaigns.title')}</a>
            </li>
            <li>
              <a href="/staff/admin/staff">{t('staff.title')}</a>
            </li>
            <li>
              <a href="/staff/admin/audit">{t('audit.title')}</a>
            </li>
          </ul>
        </>
      )}
    </Layout>
  );
}

export function ErrorPage(props: { ctx: StaffContext; message: string; code: string }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('error.title')} narrow>
      <p class="error" role="alert" data-code={props.code}>
        {props.message}
      </p>
      <p>
        <a href="/staff">{t('error.back')}</a>
      </p>
    </Layout>
  );
}

/** The message for an error code, in the page's language (the English AppError text is for the API and logs). */
export function errorMessage(ctx: StaffContext, code: string, details: Record<string, unknown> = {}): string {
  const key = `error.${code}`;
  if (!Object.hasOwn(en, key)) return ctx.t('error.generic');
  const values = Object.fromEntries(Object.entries(details).filter(([, v]) => typeof v === 'string' || typeof v === 'number')) as Record<string, string | number>;
  // A clip's state is an id (`in_review`): said in the page's language.
  if (typeof values.status === 'string') values.status = statusName(ctx.t, values.status);
  return ctx.t(key as MessageKey, values);
}
