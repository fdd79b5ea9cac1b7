import type { ComponentChildren } from 'preact';
import type { Campaign } from '../../../shared/models/campaign.model';
import { actionKindLabel, actionKindsOf } from '../../../shared/reports/action-kinds';
import { PARTICIPANT_RANGES, REPORT_PHOTOS_MAX } from '../../../shared/reports/report.model';
import { currentConsent, isOpen, localisedText } from '../../services/campaign.service';
import { REPORT_PHOTO_MAX_BYTES } from '../../services/report.service';
import { ContribLayout, type ContribPageContext } from './campaign.page';
import { CONTRIB_LANGUAGES, type ContribMessageKey, type ContribTranslate } from './messages/contrib-messages';

/**
 * The action report form (`/c/<campaign>/report`, or through a union's link `/c/<campaign>/u/<token>/report`)
 * and its private status page (`/r/<id>#<token>`), issue 18. Phone first; never an exact place (a city and a
 * country code, no map). The page script (assets/report-script.ts) sends the fields, then each photo in a
 * request of its own with retries, then "submit", and shows the receipt.
 */

export interface ReportScriptConfig {
  campaign: string;
  lang: string;
  consentVersion: number;
  statements: string[];
  maxPhotos: number;
  maxBytes: number;
  linkToken?: string;
  messages: Partial<Record<ContribMessageKey, string>>;
}

function pick(lang: string, test: (key: string) => boolean): Partial<Record<ContribMessageKey, string>> {
  const all = CONTRIB_LANGUAGES[lang]!;
  const out: Partial<Record<ContribMessageKey, string>> = {};
  for (const key of Object.keys(all) as ContribMessageKey[]) if (test(key)) out[key] = all[key];
  return out;
}

function Field(props: { id: string; label: string; help?: string; required?: boolean; m: ContribTranslate; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>
        {props.label}
        {props.required && <span class="req"> ({props.m('form.required')})</span>}
      </label>
      {props.help && (
        <p class="help" id={`${props.id}-help`}>
          {props.help}
        </p>
      )}
      {props.children}
    </div>
  );
}

export function ReportPage(props: { ctx: ContribPageContext; campaign: Campaign; now: Date; fixed: { organisation: string; country: string } | null; linkToken?: string; backHref: string; formHref: string; themeHref?: string | null }) {
  const { ctx, campaign } = props;
  const { m, lang } = ctx;
  const consent = currentConsent(campaign);
  const text = consent.texts.find((t) => t.language === lang) ?? consent.texts[0]!;
  const days = campaign.actionDays ?? [];
  const kinds = actionKindsOf(campaign);
  const open = isOpen(campaign, props.now);
  const title = localisedText(campaign, campaign.titles, lang);
  const dayFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeZone: 'UTC' });
  const config: ReportScriptConfig = {
    campaign: campaign.slug,
    lang,
    consentVersion: consent.version,
    statements: text.statements.map((s) => s.id),
    maxPhotos: REPORT_PHOTOS_MAX,
    maxBytes: REPORT_PHOTO_MAX_BYTES,
    ...(props.linkToken ? { linkToken: props.linkToken } : {}),
    messages: pick(lang, (key) => key.startsWith('report.') || key.startsWith('error.') || key === 'receipt.copied'),
  };
  return (
    <ContribLayout ctx={ctx} title={`${m('report.title')} · ${title?.text ?? campaign.name}`} themeHref={props.themeHref}>
      <p class="intro">{m('report.intro')}</p>
      <p>
        <a href={props.backHref}>{m('report.back')}</a>
      </p>
      {!open && (
        <p class="notice" role="status" data-testid="closed">
          {m('report.closed')}
        </p>
      )}
      {open && days.length === 0 && (
        <p class="notice" role="status" data-testid="no-days">
          {m('report.noDays')}
        </p>
      )}
      {open && days.length > 0 && (
        <form id="report" class="upload" method="post" action="/api/reports" novalidate data-config={JSON.stringify(config)}>
          <noscript>
            <p class="error">{m('page.noscript')}</p>
          </noscript>
          <fieldset>
            <legend>{m('report.about')}</legend>
            <Field id="kind" label={m('report.kind')} required m={m}>
              <select id="kind" name="kind" required>
                {kinds.map((kind) => (
                  <option value={kind.id}>{actionKindLabel(kinds, kind.id, lang)}</option>
                ))}
              </select>
            </Field>
            <Field id="date" label={m('report.date')} required m={m}>
              <select id="date" name="date" required>
                {days.map((day) => (
                  <option value={day}>{dayFormat.format(new Date(`${day}T12:00:00Z`))}</option>
                ))}
              </select>
            </Field>
            <Field id="startTime" label={m('report.startTime')} m={m}>
              <input id="startTime" name="startTime" type="time" />
            </Field>
            <Field id="city" label={m('report.city')} help={m('report.cityHelp')} required m={m}>
              <input id="city" name="city" type="text" required maxLength={100} autocomplete="off" aria-describedby="city-help" />
            </Field>
            {props.fixed ? (
              <p class="fixed" data-testid="fixed-organisation">
                <bdi>{props.fixed.organisation}</bdi> · {props.fixed.country}
              </p>
            ) : (
              <>
                <Field id="country" label={m('form.country')} help={m('form.countryHelp')} required m={m}>
                  <input id="country" name="country" type="text" required minLength={2} maxLength={2} pattern="[A-Za-z]{2}" autocapitalize="characters" class="short" aria-describedby="country-help" />
                </Field>
                <Field id="organisation" label={m('form.organisation')} required m={m}>
                  <input id="organisation" name="organisation" type="text" required maxLength={200} autocomplete="organization" />
                </Field>
              </>
            )}
            <Field id="participants" label={m('report.participants')} required m={m}>
              <select id="participants" name="participants" required>
                {PARTICIPANT_RANGES.map((range) => (
                  <option value={range}>{range.replace('-', '–')}</option>
                ))}
              </select>
            </Field>
            <Field id="partners" label={m('report.partners')} m={m}>
              <input id="partners" name="partners" type="text" maxLength={500} />
            </Field>
            <Field id="text" label={m('report.text')} m={m}>
              <textarea id="text" name="text" rows={3} maxLength={2000} />
            </Field>
            <div class="hp" aria-hidden="true">
              <label for="website">{m('form.honeypot')}</label>
              <input id="website" name="website" type="text" tabindex={-1} autocomplete="off" />
            </div>
          </fieldset>
          <fieldset>
            <legend>{m('report.photos', { n: REPORT_PHOTOS_MAX })}</legend>
            <Field id="photos" label={m('report.photos', { n: REPORT_PHOTOS_MAX })} help={m('report.photosHelp', { mb: REPORT_PHOTO_MAX_BYTES / 1024 / 1024 })} m={m}>
              <input id="photos" name="photos" type="file" multiple accept="image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp" aria-describedby="photos-help photos-error" />
            </Field>
            <p class="error" id="photos-error" role="alert" hidden />
          </fieldset>
          <fieldset class="consent">
            <legend>{m('form.consent')}</legend>
            <p class="help">{m('form.consentHelp', { version: consent.version })}</p>
            {text.statements.map((statement) => (
              <div class="check">
                <input type="checkbox" id={`consent-${statement.id}`} name="consent-statement" value={statement.id} required={!statement.optional} />
                <label for={`consent-${statement.id}`}>
                  <bdi>{statement.text}</bdi>
                  {statement.optional && <span class="optional"> {m('form.consentOptional')}</span>}
                </label>
              </div>
            ))}
          </fieldset>
          <button type="submit" id="send">
            {m('report.submit')}
          </button>
          <div class="progress" id="progress" hidden>
            <progress id="progress-bar" max={100} value={0} aria-labelledby="progress-text" />
            <p id="progress-text" aria-live="polite" />
          </div>
          <ul class="error photo-list" id="photo-refusals" hidden />
          <p class="error" id="form-error" role="alert" hidden />
        </form>
      )}
      <section id="report-receipt" class="receipt" hidden aria-labelledby="report-receipt-title" tabindex={-1}>
        <h2 id="report-receipt-title">{m('report.receiptTitle')}</h2>
        <p>{m('report.receiptKeep')}</p>
        <p class="label">{m('receipt.link')}</p>
        <p class="secret">
          <a id="report-receipt-link" data-testid="report-receipt-link" />
        </p>
        <p>
          <a href={props.formHref} id="report-another">
            {m('report.another')}
          </a>
        </p>
      </section>
    </ContribLayout>
  );
}

/** `/r/<id>#<token>`: the report's state, asked with the token from the fragment; withdraw after a confirmation. */
export function ReportStatusPage(props: { ctx: ContribPageContext; id: string }) {
  const { ctx, id } = props;
  const { m } = ctx;
  const messages = pick(ctx.lang, (key) => key.startsWith('report.status.') || ['status.loading', 'status.noToken', 'status.reason', 'status.withdrawDone'].includes(key));
  return (
    <ContribLayout ctx={ctx} title={m('report.status.title')}>
      <section id="report-status" data-id={id} data-config={JSON.stringify({ lang: ctx.lang, messages })} aria-live="polite">
        <p id="report-status-message">{m('status.loading')}</p>
        <p id="report-status-photos" class="help" hidden />
        <p class="error" id="report-status-reason" hidden />
      </section>
      <section id="report-withdraw" class="withdraw" hidden>
        <p class="help">{m('report.status.withdrawHelp')}</p>
        <button type="button" id="report-withdraw-start" class="secondary">
          {m('report.status.withdraw')}
        </button>
        <div id="report-withdraw-confirm" role="alertdialog" aria-labelledby="report-withdraw-ask" hidden>
          <p>
            <strong id="report-withdraw-ask">{m('report.status.withdrawAsk')}</strong>
          </p>
          <button type="button" id="report-withdraw-yes">
            {m('status.withdrawConfirm')}
          </button>{' '}
          <button type="button" id="report-withdraw-no" class="secondary">
            {m('status.withdrawCancel')}
          </button>
        </div>
      </section>
    </ContribLayout>
  );
}
