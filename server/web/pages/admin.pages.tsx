import { STAFF_ROLES, type StaffRole, type StaffUser } from '../../../shared/models/staff-user.model';
import type { AuditEntry } from '../../../shared/models/audit-entry.model';
import type { AuditVerdict } from '../../services/audit.service';
import { en } from '../messages/en';
import { formatDateTime, type MessageKey, type Translate } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, ErrorNote, Layout } from './layout';

function RoleSelect(props: { ctx: StaffContext; id: string; value?: StaffRole }) {
  return (
    <select id={props.id} name="role" required>
      {STAFF_ROLES.map((role) => (
        <option value={role} selected={role === props.value}>
          {props.ctx.t(`role.${role}`)}
        </option>
      ))}
    </select>
  );
}

export function StaffListPage(props: { ctx: StaffContext; users: StaffUser[]; selfId: string; error?: string | null; notice?: string | null }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('staff.title')}>
      {props.notice && <p class="notice">{props.notice}</p>}
      <ErrorNote message={props.error} />
      <table class="stack">
        <thead>
          <tr>
            <th>{t('staff.email')}</th>
            <th>{t('staff.role')}</th>
            <th>{t('staff.campaigns')}</th>
            <th>{t('staff.secondFactor')}</th>
            <th>{t('staff.access')}</th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((user) => {
            const id = user._id.toHexString();
            const self = id === props.selfId;
            return (
              <tr>
                <td data-label={t('staff.email')}>
                  {user.email} {self && <em>({t('staff.you')})</em>}
                </td>
                <td data-label={t('staff.role')}>
                  {self ? (
                    t(`role.${user.role}`)
                  ) : (
                    <form method="post" action={`/staff/admin/staff/${id}/role`} class="inline-form">
                      <Csrf ctx={ctx} />
                      <RoleSelect ctx={ctx} id={`role-${id}`} value={user.role} />
                      <input type="text" name="campaigns" aria-label={t('staff.campaigns')} value={user.campaigns.join(', ')} />
                      <button type="submit" class="secondary">
                        {t('staff.changeRole')}
                      </button>
                    </form>
                  )}
                </td>
                <td data-label={t('staff.campaigns')}>{user.campaigns.length ? user.campaigns.join(', ') : t('staff.campaignsAll')}</td>
                <td data-label={t('staff.secondFactor')}>{user.totp?.lastStep ? t('staff.secondFactorOn') : t('staff.secondFactorOff')}</td>
                <td data-label={t('staff.access')}>
                  {user.disabled ? t('staff.disabled') : t('staff.active')}
                  {user.lockedUntil && user.lockedUntil.getTime() > Date.now() && <> · {t('staff.lockedUntil', { until: formatDateTime(ctx.lang, user.lockedUntil) })}</>}
                  {!self && (
                    <form method="post" action={`/staff/admin/staff/${id}/access`} class="inline-form">
                      <Csrf ctx={ctx} />
                      <input type="hidden" name="disabled" value={user.disabled ? 'false' : 'true'} />
                      <button type="submit" class="secondary">
                        {user.disabled ? t('staff.enable') : t('staff.disable')}
                      </button>
                    </form>
                  )}
                  {!self && (
                    <form method="post" action={`/staff/admin/staff/${id}/unlock`} class="inline-form">
                      <Csrf ctx={ctx} />
                      <button type="submit" class="secondary" title={t('staff.unlockHelp')}>
                        {t('staff.unlock')}
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <h2>{t('invite.title')}</h2>
      <form method="post" action="/staff/admin/invites">
        <Csrf ctx={ctx} />
        <label for="invite-email">{t('staff.email')}</label>
        <input id="invite-email" name="email" type="email" required />
        <label for="invite-role">{t('staff.role')}</label>
        <RoleSelect ctx={ctx} id="invite-role" value="moderator" />
        <label for="invite-campaigns">{t('staff.campaigns')}</label>
        <input id="invite-campaigns" name="campaigns" type="text" aria-describedby="campaigns-help" />
        <p class="help" id="campaigns-help">
          {t('staff.campaignsHelp')}
        </p>
        <button type="submit">{t('invite.submit')}</button>
      </form>
    </Layout>
  );
}

export function InviteCreatedPage(props: { ctx: StaffContext; email: string; role: StaffRole; link: string; expiresAt: Date }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('invite.created', { email: props.email, role: t(`role.${props.role}`) })}>
      <p>{t('invite.linkHelp', { expires: formatDateTime(ctx.lang, props.expiresAt) })}</p>
      <p class="secret" id="invite-link" data-testid="invite-link">
        {props.link}
      </p>
      <button type="button" class="secondary" data-copy="invite-link" data-copied={t('enrol.copied')} hidden>
        {t('invite.copy')}
      </button>
      <p>
        <a href="/staff/admin/staff">{t('invite.back')}</a>
      </p>
    </Layout>
  );
}

/** Who acted: a staff member's address, or the command line (an actor without an id) in the page's language. */
function actorOf(t: Translate, entry: AuditEntry): string {
  if (entry.actor.id === null && entry.actor.email === 'command line') return t('audit.commandLine');
  return entry.actor.email ?? entry.actor.id ?? '—';
}

/** What it was done on: the kind in the page's language (a kind these pages do not know stays as stored), then the id. */
function targetOf(t: Translate, entry: AuditEntry): string {
  if (!entry.target) return '—';
  const key = `audit.kind.${entry.target.kind}`;
  return `${Object.hasOwn(en, key) ? t(key as MessageKey) : entry.target.kind} ${entry.target.id}`;
}

function details(entry: AuditEntry): string {
  return Object.entries(entry.details ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`)
    .join(' ');
}

export function AuditPage(props: { ctx: StaffContext; entries: AuditEntry[]; total: number; verdict: AuditVerdict; pageSize: number }) {
  const { ctx, entries } = props;
  const { t } = ctx;
  const oldest = entries.at(-1)?._id ?? 0;
  return (
    <Layout ctx={ctx} title={t('audit.title')}>
      {props.verdict.ok ? (
        <p class="notice">
          {t('audit.intact', { count: props.verdict.entries })} {t(props.verdict.anchored ? 'audit.anchored' : 'audit.unanchored')}
        </p>
      ) : (
        <p class="error" role="alert">
          {t('audit.broken', { seq: String(props.verdict.badSeq), problem: props.verdict.problem })}
        </p>
      )}
      {entries.length === 0 ? (
        <p>{t('audit.empty')}</p>
      ) : (
        <table class="stack">
          <thead>
            <tr>
              <th>{t('audit.seq')}</th>
              <th>{t('audit.at')}</th>
              <th>{t('audit.actor')}</th>
              <th>{t('audit.action')}</th>
              <th>{t('audit.target')}</th>
              <th>{t('audit.details')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr>
                <td data-label={t('audit.seq')}>{entry._id}</td>
                <td data-label={t('audit.at')}>
                  <time dateTime={entry.at.toISOString()}>{formatDateTime(ctx.lang, entry.at)}</time>
                </td>
                <td data-label={t('audit.actor')}>{actorOf(t, entry)}</td>
                <td data-label={t('audit.action')} data-action={entry.action}>
                  {t(`audit.action.${entry.action}`)}
                </td>
                <td data-label={t('audit.target')}>{targetOf(t, entry)}</td>
                <td data-label={t('audit.details')} class="details">
                  {details(entry)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        {oldest > 1 && <a href={`/staff/admin/audit?before=${oldest}`}>{t('audit.older')}</a>}{' '}
        {entries.length > 0 && entries[0]!._id < props.total && <a href="/staff/admin/audit">{t('audit.newest')}</a>}
      </p>
    </Layout>
  );
}
