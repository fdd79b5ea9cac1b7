import { isolate } from '../../../shared/text/hostile-text';
import type { Campaign } from '../../../shared/models/campaign.model';
import { campaignLogoPath, currentConsent, isOpen } from '../../services/campaign.service';
import { LOGO_MAX_BYTES } from '../../services/campaign-logo';
import { formatDateTime } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, Layout } from './layout';

/** An error of a campaign form: the message, and each field's problem (campaign checks are specific). */
export interface FormError {
  message: string;
  errors?: Array<{ field: string; message: string }>;
}

function FormErrors(props: { error: FormError | null | undefined }) {
  if (!props.error) return null;
  return (
    <div class="error" role="alert" data-testid="form-error">
      <p>{props.error.message}</p>
      {props.error.errors && props.error.errors.length > 0 && (
        <ul>
          {props.error.errors.map((e) => (
            <li>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function CampaignListPage(props: { ctx: StaffContext; campaigns: Campaign[]; now: Date; error?: FormError | null; draft?: string }) {
  const { ctx, campaigns, now } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t('campaigns.title')}>
      {campaigns.length === 0 ? (
        <p>{t('campaigns.empty')}</p>
      ) : (
        <table class="stack">
          <thead>
            <tr>
              <th>{t('campaigns.name')}</th>
              <th>{t('campaigns.status')}</th>
              <th>{t('campaigns.languages')}</th>
              <th>{t('campaigns.consentVersion')}</th>
            </tr>
          </thead>
          <tbody>
            {campaigns.map((campaign) => (
              <tr data-slug={campaign.slug}>
                <td data-label={t('campaigns.name')}>
                  <a href={`/staff/admin/campaigns/${encodeURIComponent(campaign.slug)}`}>
                    <bdi>{campaign.name}</bdi>
                  </a> <code>{campaign.slug}</code>
                </td>
                <td data-label={t('campaigns.status')}>
                  {t(`campaigns.status.${campaign.status}`)} ({isOpen(campaign, now) ? t('campaigns.takesClips') : t('campaigns.notTakingClips')})
                </td>
                <td data-label={t('campaigns.languages')}>{campaign.languages.join(', ')}</td>
                <td data-label={t('campaigns.consentVersion')}>{currentConsent(campaign).version}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{t('campaigns.new')}</h2>
      <FormErrors error={props.error} />
      <form method="post" action="/staff/admin/campaigns">
        <Csrf ctx={ctx} />
        <label for="campaign-json">{t('campaigns.json')}</label>
        <p class="help" id="campaign-json-help">
          {t('campaigns.newHelp')}
        </p>
        <textarea id="campaign-json" name="campaign" rows={12} required aria-describedby="campaign-json-help">
          {props.draft ?? ''}
        </textarea>
        <button type="submit">{t('campaigns.create')}</button>
      </form>
    </Layout>
  );
}

/** `2026-05-01T10:00` (UTC) for a datetime-local input. */
const localInput = (date: Date | null) => (date ? date.toISOString().slice(0, 16) : '');

export interface CampaignEditState {
  notice?: string | null;
  error?: FormError | null;
  /** Which form the error belongs to, so it is shown beside it. */
  errorAt?: 'fields' | 'logo' | 'consent' | 'links';
  /** A union link just made: shown this once. */
  createdLink?: { organisation: string; url: string } | null;
  /** A consent text that was refused, given back to edit. */
  consentDraft?: string;
}

export function CampaignEditPage(props: { ctx: StaffContext; campaign: Campaign; now: Date; state?: CampaignEditState }) {
  const { ctx, campaign } = props;
  const { t } = ctx;
  const state = props.state ?? {};
  const base = `/staff/admin/campaigns/${encodeURIComponent(campaign.slug)}`;
  const titles = new Map((campaign.titles ?? []).map((x) => [x.language, x.text]));
  const prompts = new Map((campaign.prompts ?? []).map((x) => [x.language, x.text]));
  const consent = currentConsent(campaign);
  const logo = campaign.branding?.logo ?? null;
  const errorAt = (where: CampaignEditState['errorAt']) => (state.errorAt === where ? state.error : null);
  return (
    <Layout ctx={ctx} title={t('campaigns.editTitle', { name: campaign.name })}>
      <p>
        <a href="/staff/admin/campaigns">{t('campaigns.back')}</a> · <a href={`/c/${encodeURIComponent(campaign.slug)}`}>{t('campaigns.open')}</a>
      </p>
      {state.notice && (
        <p class="notice" role="status">
          {state.notice}
        </p>
      )}

      <h2 id="fields">{t('campaigns.fields')}</h2>
      <FormErrors error={errorAt('fields')} />
      <form method="post" action={base}>
        <Csrf ctx={ctx} />
        <label for="name">{t('campaigns.name')}</label>
        <input id="name" name="name" type="text" required maxLength={200} value={campaign.name} />
        <label for="status">{t('campaigns.status')}</label>
        <select id="status" name="status">
          {(['draft', 'open', 'closed'] as const).map((status) => (
            <option value={status} selected={campaign.status === status}>
              {t(`campaigns.status.${status}`)}
            </option>
          ))}
        </select>
        <label for="languages">{t('campaigns.languages')}</label>
        <input id="languages" name="languages" type="text" required value={campaign.languages.join(', ')} aria-describedby="languages-help" />
        <p class="help" id="languages-help">
          {t('campaigns.languagesHelp')}
        </p>
        {campaign.languages.map((language) => (
          <fieldset lang={language}>
            <legend>{t('campaigns.inLanguage', { language })}</legend>
            <label for={`title-${language}`}>{t('campaigns.pageTitle', { language })}</label>
            <input id={`title-${language}`} name={`title.${language}`} type="text" maxLength={200} value={titles.get(language) ?? ''} />
            <label for={`prompt-${language}`}>{t('campaigns.prompt', { language })}</label>
            <textarea id={`prompt-${language}`} name={`prompt.${language}`} rows={3} maxLength={2000}>
              {prompts.get(language) ?? ''}
            </textarea>
          </fieldset>
        ))}
        <label for="opensAt">{t('campaigns.opensAt')}</label>
        <input id="opensAt" name="opensAt" type="datetime-local" value={localInput(campaign.opensAt)} />
        <label for="closesAt">{t('campaigns.closesAt')}</label>
        <input id="closesAt" name="closesAt" type="datetime-local" value={localInput(campaign.closesAt)} />
        <label for="hashtags">{t('campaigns.hashtags')}</label>
        <input id="hashtags" name="hashtags" type="text" value={(campaign.hashtags ?? []).join(' ')} aria-describedby="hashtags-help" />
        <p class="help" id="hashtags-help">
          {t('campaigns.hashtagsHelp')}
        </p>
        <label for="actionDays">{t('campaigns.actionDays')}</label>
        <input id="actionDays" name="actionDays" type="text" value={(campaign.actionDays ?? []).join(' ')} aria-describedby="actionDays-help" />
        <p class="help" id="actionDays-help">
          {t('campaigns.actionDaysHelp')}
        </p>
        <label for="accentColour">{t('campaigns.accentColour')}</label>
        <input id="accentColour" name="accentColour" type="text" pattern="#[0-9a-fA-F]{6}" placeholder="#a3001a" value={campaign.branding?.accentColour ?? ''} aria-describedby="colour-help" />
        <label for="backgroundColour">{t('campaigns.backgroundColour')}</label>
        <input id="backgroundColour" name="backgroundColour" type="text" pattern="#[0-9a-fA-F]{6}" placeholder="#fbfbfd" value={campaign.branding?.backgroundColour ?? ''} aria-describedby="colour-help" />
        <p class="help" id="colour-help">
          {t('campaigns.colourHelp')}
        </p>
        <button type="submit">{t('campaigns.save')}</button>
      </form>

      <h2 id="logo">{t('campaigns.logo')}</h2>
      <FormErrors error={errorAt('logo')} />
      {logo ? (
        <p>
          <img src={campaignLogoPath(campaign.slug, logo.id)} alt={t('campaigns.logoCurrent')} width={logo.width} height={logo.height} class="logo-preview" />
        </p>
      ) : (
        <p>{t('campaigns.logoNone')}</p>
      )}
      <form method="post" action={`${base}/logo`} enctype="multipart/form-data">
        <Csrf ctx={ctx} />
        <label for="logo-file">{t('campaigns.logoFile', { kb: LOGO_MAX_BYTES / 1024 })}</label>
        <input id="logo-file" name="logo" type="file" accept="image/png,image/jpeg,image/webp" required />
        <button type="submit">{t('campaigns.logoUpload')}</button>
      </form>

      <h2 id="consent">{t('campaigns.consent')}</h2>
      <p>{t('campaigns.consentHelp', { version: consent.version })}</p>
      <FormErrors error={errorAt('consent')} />
      <form method="post" action={`${base}/consent`}>
        <Csrf ctx={ctx} />
        <label for="consent-json">{t('campaigns.consentJson')}</label>
        <textarea id="consent-json" name="consent" rows={16} required>
          {state.consentDraft ?? JSON.stringify(consent.texts, null, 2)}
        </textarea>
        <button type="submit">{t('campaigns.consentPublish', { version: consent.version + 1 })}</button>
      </form>

      <h2 id="links">{t('campaigns.links')}</h2>
      <p class="help">{t('campaigns.linksHelp')}</p>
      {state.createdLink && (
        <div class="notice" role="status">
          <p>{t('campaigns.linkCreated', { organisation: state.createdLink.organisation })}</p>
          <p class="secret" id="union-link" data-testid="union-link">
            {state.createdLink.url}
          </p>
        </div>
      )}
      <FormErrors error={errorAt('links')} />
      {(campaign.unionLinks ?? []).length === 0 ? (
        <p>{t('campaigns.linksNone')}</p>
      ) : (
        <ul>
          {(campaign.unionLinks ?? []).map((link) => (
            <li data-link={link.id}>
              <bdi>{link.organisation}</bdi> · {link.country} · <code>{link.id}</code> ·{' '}
              {link.revokedAt ? t('campaigns.linkRevoked', { at: formatDateTime(ctx.lang, link.revokedAt) }) : t('campaigns.linkActive', { at: formatDateTime(ctx.lang, link.createdAt) })}
              {!link.revokedAt && (
                <form method="post" action={`${base}/links/${link.id}/revoke`} class="inline-form">
                  <Csrf ctx={ctx} />
                  <button type="submit" class="secondary" aria-label={`${t('campaigns.linkRevoke')}: ${isolate(link.organisation)} (${link.id})`}>
                    {t('campaigns.linkRevoke')}
                  </button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
      <form method="post" action={`${base}/links`} class="inline-form">
        <Csrf ctx={ctx} />
        <div>
          <label for="link-organisation">{t('campaigns.linkOrganisation')}</label>
          <input id="link-organisation" name="organisation" type="text" required maxLength={200} />
        </div>
        <div>
          <label for="link-country">{t('campaigns.linkCountry')}</label>
          <input id="link-country" name="country" type="text" required minLength={2} maxLength={2} pattern="[A-Za-z]{2}" />
        </div>
        <button type="submit">{t('campaigns.linkCreate')}</button>
      </form>
    </Layout>
  );
}
