import { PASSWORD_MIN_LENGTH } from '../../services/password.service';
import type { StaffRole } from '../../../shared/models/staff-user.model';
import type { StaffContext } from '../staff-route';
import { Csrf, ErrorNote, Layout } from './layout';

export function LoginPage(props: { ctx: StaffContext; error?: string | null; notice?: string | null; email?: string; next?: string | null }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('login.title')} narrow>
      {props.notice && <p class="notice">{props.notice}</p>}
      <ErrorNote message={props.error} />
      <form method="post" action="/staff/login">
        <Csrf ctx={ctx} />
        {props.next && <input type="hidden" name="next" value={props.next} />}
        <label for="email">{t('login.email')}</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={props.email ?? ''} />
        <label for="password">{t('login.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit">{t('login.submit')}</button>
      </form>
    </Layout>
  );
}

function CodeField(props: { ctx: StaffContext }) {
  return (
    <>
      <label for="code">{props.ctx.t('code.label')}</label>
      <input id="code" name="code" class="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength={7} required />
    </>
  );
}

export function CodePage(props: { ctx: StaffContext; error?: string | null }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('code.title')} narrow>
      <p>{t('code.help')}</p>
      <ErrorNote message={props.error} />
      <form method="post" action="/staff/login/code">
        <Csrf ctx={ctx} />
        <CodeField ctx={ctx} />
        <button type="submit">{t('code.submit')}</button>
      </form>
    </Layout>
  );
}

export function EnrolPage(props: { ctx: StaffContext; secret: string; uri: string; qrSvg: string | null; error?: string | null }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('enrol.title')} narrow>
      <p>{t('enrol.intro')}</p>
      {props.qrSvg && (
        // The SVG is made by the server from the otpauth URI (no user text in it beyond base32 and the escaped account).
        <figure class="qr" aria-label={t('enrol.qr')} dangerouslySetInnerHTML={{ __html: props.qrSvg }} />
      )}
      <p>
        <strong>{t('enrol.key')}</strong>
      </p>
      <p class="secret" id="totp-secret" data-testid="totp-secret">
        {props.secret}
      </p>
      <button type="button" class="secondary" data-copy="totp-secret" data-copied={t('enrol.copied')} hidden>
        {t('enrol.copy')}
      </button>
      <p>
        <a href={props.uri}>{t('enrol.uri')}</a>
      </p>
      <p>{t('enrol.then')}</p>
      <ErrorNote message={props.error} />
      <form method="post" action="/staff/totp/enrol">
        <Csrf ctx={ctx} />
        <CodeField ctx={ctx} />
        <button type="submit">{t('enrol.submit')}</button>
      </form>
    </Layout>
  );
}

export function AcceptInvitePage(props: { ctx: StaffContext; token: string; email: string; role: StaffRole; error?: string | null }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('accept.title')} narrow>
      <p>{t('accept.intro', { role: t(`role.${props.role}`), email: props.email, min: PASSWORD_MIN_LENGTH })}</p>
      <ErrorNote message={props.error} />
      <form method="post" action={`/staff/invite/${props.token}`}>
        <Csrf ctx={ctx} />
        <input type="text" name="username" autocomplete="username" value={props.email} hidden readonly />
        <label for="password">{t('accept.password')}</label>
        <input id="password" name="password" type="password" autocomplete="new-password" minlength={PASSWORD_MIN_LENGTH} required />
        <label for="repeat">{t('accept.repeat')}</label>
        <input id="repeat" name="repeat" type="password" autocomplete="new-password" minlength={PASSWORD_MIN_LENGTH} required />
        <button type="submit">{t('accept.submit')}</button>
      </form>
    </Layout>
  );
}
