import type { ComponentChildren } from 'preact';
import type { Campaign } from '../../../shared/models/campaign.model';
import { campaignLogoPath, campaignPrompt, currentConsent, isOpen, localisedText } from '../../services/campaign.service';
import { contribAssetUrl } from './assets/contrib-assets';
import { CONTRIB_LANGUAGES, type ContribMessageKey, type ContribTranslate } from './messages/contrib-messages';

export interface ContribPageContext {
  lang: string;
  m: ContribTranslate;
  /** Languages to switch to, with the address of this page in each. */
  languages: Array<{ code: string; href: string }>;
}

/** Every contributors' page: the page's own stylesheet and script, nothing inline, nothing from elsewhere. */
export function ContribLayout(props: {
  ctx: ContribPageContext;
  title: string;
  /** The title's language when it is not the page's (a title the campaign has only in another language). */
  titleLang?: string;
  weightKb?: number;
  scripts?: string[];
  /** The campaign's own stylesheet (its colours), after the page's. */
  themeHref?: string | null;
  logo?: { src: string; width: number; height: number } | null;
  /** The page reloads itself after this many seconds (an answer being made; works without the script). */
  refreshSeconds?: number;
  /** The footer's privacy note, when the page is not about a clip sent to the campaign (/verify). */
  privacyNote?: string;
  children: ComponentChildren;
}) {
  const { ctx, title } = props;
  const { m } = ctx;
  return (
    <html lang={ctx.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        {props.refreshSeconds !== undefined && <meta http-equiv="refresh" content={String(props.refreshSeconds)} />}
        <title>{title}</title>
        <link rel="stylesheet" href={contribAssetUrl('contrib.css')} />
        {props.themeHref && <link rel="stylesheet" href={props.themeHref} />}
        {props.scripts?.map((name) => <script src={contribAssetUrl(name)} defer />)}
        <script src={contribAssetUrl('contrib.js')} defer />
      </head>
      <body>
        <a class="skip" href="#main">
          {m('page.skip')}
        </a>
        {ctx.languages.length > 1 && (
          <nav class="langs" aria-label={m('page.languages')}>
            <ul>
              {ctx.languages.map((language) => (
                <li>
                  <a
                    href={language.href}
                    hreflang={language.code}
                    lang={language.code}
                    data-lang={language.code}
                    aria-current={language.code === ctx.lang ? 'true' : undefined}
                  >
                    {CONTRIB_LANGUAGES[language.code]!['lang.name']}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main">
          {props.logo && <img class="logo" src={props.logo.src} width={props.logo.width} height={props.logo.height} alt="" data-testid="logo" />}
          <h1 lang={props.titleLang && props.titleLang !== ctx.lang ? props.titleLang : undefined}>{title}</h1>
          {props.children}
        </main>
        <footer>
          <p>{props.privacyNote ?? m('note.privacy')}</p>
          {props.weightKb !== undefined && <p data-testid="weight">{m('note.weight', { kb: props.weightKb })}</p>}
        </footer>
      </body>
    </html>
  );
}

/** What the page script needs: limits, the consent version, and the messages it may show (in this language). */
export interface PageScriptConfig {
  campaign: string;
  lang: string;
  consentVersion: number;
  statements: string[];
  maxBytes: number;
  subtitleMaxBytes: number;
  maxDurationSeconds: number;
  messages: Partial<Record<ContribMessageKey, string>>;
  /** A per-union link's token (the server fills organisation and country from it). */
  linkToken?: string;
}

const SCRIPT_KEYS: ContribMessageKey[] = [
  'form.sending',
  'form.progress',
  'form.timeLeft',
  'form.resuming',
  'form.processing',
  'unit.mb',
  'unit.seconds',
  'unit.minutes',
  'check.type',
  'check.size',
  'check.duration',
  'check.empty',
  'check.subtitleType',
  'check.subtitleSize',
  'check.missingVideo',
  'error.network',
  'error.unknown',
  'field.organisation',
  'field.country',
  'field.title',
  'field.message',
  'field.contactEmail',
  'receipt.copied',
  'record.start',
  'record.again',
  'record.recording',
  'record.denied',
];

export function scriptMessages(lang: string): PageScriptConfig['messages'] {
  const messages = CONTRIB_LANGUAGES[lang]!;
  const picked: PageScriptConfig['messages'] = {};
  for (const key of SCRIPT_KEYS) picked[key] = messages[key];
  for (const key of Object.keys(messages) as ContribMessageKey[]) if (key.startsWith('error.')) picked[key] = messages[key];
  return picked;
}

/** A duration as the page says it: seconds below two minutes, else whole minutes. */
function lengthText(m: ContribTranslate, seconds: number): string {
  return seconds < 120 ? m('unit.seconds', { n: Math.ceil(seconds) }) : m('unit.minutes', { n: Math.floor(seconds / 60) });
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

export function CampaignPage(props: {
  ctx: ContribPageContext;
  campaign: Campaign;
  now: Date;
  config: Omit<PageScriptConfig, 'messages' | 'campaign' | 'lang' | 'consentVersion' | 'statements'>;
  /** Organisation and country filled in by a per-union link. */
  fixed?: { organisation: string; country: string } | null;
  weightKb?: number;
  /** The campaign's stylesheet (contrib.router.tsx serves it) when it has colours of its own. */
  themeHref?: string | null;
  /** The action report form's address (issue 18), when the campaign has days of action. */
  reportHref?: string | null;
}) {
  const { ctx, campaign, now } = props;
  const { m, lang } = ctx;
  const consent = currentConsent(campaign);
  const text = consent.texts.find((t) => t.language === lang) ?? consent.texts[0]!;
  const open = isOpen(campaign, now);
  const notYet = campaign.status === 'draft' || (campaign.opensAt !== null && now < campaign.opensAt);
  const dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
  const config: PageScriptConfig = {
    ...props.config,
    campaign: campaign.slug,
    lang,
    consentVersion: consent.version,
    statements: text.statements.map((s) => s.id),
    messages: scriptMessages(lang),
  };
  const mb = Math.floor(config.maxBytes / 1024 / 1024);
  const prompt = campaignPrompt(campaign, lang);
  const title = localisedText(campaign, campaign.titles, lang);
  const logo = campaign.branding?.logo;
  return (
    <ContribLayout
      ctx={ctx}
      title={title?.text ?? campaign.name}
      titleLang={title?.language}
      weightKb={props.weightKb}
      scripts={open ? ['tus.js'] : []}
      themeHref={props.themeHref}
      logo={logo ? { src: campaignLogoPath(campaign.slug, logo.id), width: logo.width, height: logo.height } : null}
    >
      {prompt && (
        <p class="prompt" data-testid="prompt" lang={prompt.language !== lang ? prompt.language : undefined} dir="auto">
          {prompt.text}
        </p>
      )}
      <p class="intro">{m('page.intro')}</p>
      {open && props.reportHref && (
        <p class="report-link">
          <a href={props.reportHref} data-testid="report-link">
            {m('report.link')}
          </a>
          : {m('report.linkHelp')}
        </p>
      )}
      {!open && (
        <p class="notice" role="status" data-testid="closed">
          {notYet ? m('page.closedNotYet') : m('page.closed')}
          {notYet && campaign.opensAt && ` ${m('page.opensAt', { date: dateFormat.format(campaign.opensAt) + ' UTC' })}`}
        </p>
      )}
      {open && campaign.closesAt && <p class="help">{m('page.closesAt', { date: dateFormat.format(campaign.closesAt) + ' UTC' })}</p>}
      {open && (
        <form id="upload" class="upload" method="post" action="/api/submissions" enctype="multipart/form-data" novalidate data-config={JSON.stringify(config)}>
          <noscript>
            <p class="error">{m('page.noscript')}</p>
          </noscript>
          <p class="notice" id="form-kept" role="status" hidden>
            {m('form.kept')}
          </p>
          <fieldset>
            <legend>{m('form.about')}</legend>
            {props.fixed ? (
              <p class="fixed" data-testid="fixed-organisation">
                <bdi>{props.fixed.organisation}</bdi> · {props.fixed.country}
              </p>
            ) : (
              <>
                <Field id="organisation" label={m('form.organisation')} required m={m}>
                  <input id="organisation" name="organisation" type="text" required maxLength={200} autocomplete="organization" />
                </Field>
                <Field id="country" label={m('form.country')} help={m('form.countryHelp')} required m={m}>
                  <input
                    id="country"
                    name="country"
                    type="text"
                    required
                    minLength={2}
                    maxLength={2}
                    pattern="[A-Za-z]{2}"
                    autocapitalize="characters"
                    class="short"
                    aria-describedby="country-help"
                  />
                </Field>
              </>
            )}
            <Field id="title" label={m('form.title')} required m={m}>
              <input id="title" name="title" type="text" required maxLength={140} />
            </Field>
            <Field id="message" label={m('form.message')} m={m}>
              <textarea id="message" name="message" rows={3} maxLength={2000} />
            </Field>
            <Field id="contactEmail" label={m('form.email')} help={m('form.emailHelp')} m={m}>
              <input id="contactEmail" name="contactEmail" type="email" maxLength={254} autocomplete="email" aria-describedby="contactEmail-help" />
            </Field>
            <div class="hp" aria-hidden="true">
              <label for="website">{m('form.honeypot')}</label>
              <input id="website" name="website" type="text" tabindex={-1} autocomplete="off" />
            </div>
          </fieldset>
          <fieldset>
            <legend>{m('form.clip')}</legend>
            <Field id="video" label={m('form.video')} help={m('form.videoHelp', { mb, length: lengthText(m, config.maxDurationSeconds) })} required m={m}>
              <input id="video" name="video" type="file" accept="video/*,.mp4,.mov,.3gp,.webm,.mkv,.avi,.ts,.m2ts" required aria-describedby="video-help video-error" />
            </Field>
            <div class="recorder" id="recorder" hidden>
              <p class="help">{m('record.or')}</p>
              <video id="live" class="preview" muted playsinline hidden aria-label={m('record.live')} />
              <button type="button" id="record-start" class="secondary">
                {m('record.start')}
              </button>
              <button type="button" id="record-stop" hidden>
                {m('record.stop')}
              </button>
              <p id="record-time" aria-live="polite" />
            </div>
            <p class="error" id="video-error" role="alert" hidden />
            <video id="preview" class="preview" controls playsinline hidden aria-label={m('form.preview')} />
            <Field id="subtitles" label={m('form.subtitles')} help={m('form.subtitlesHelp', { kb: Math.floor(config.subtitleMaxBytes / 1024) })} m={m}>
              <input id="subtitles" name="subtitles" type="file" accept=".srt,.vtt,text/vtt,application/x-subrip" aria-describedby="subtitles-help" />
            </Field>
          </fieldset>
          <fieldset class="protect" id="protect">
            <legend>{m('protect.legend')}</legend>
            <p class="help">{m('protect.intro')}</p>
            {(['face', 'voice', 'card'] as const).map((option) => (
              <div class="check">
                <input type="checkbox" id={`protect-${option}`} name={`protect${option[0]!.toUpperCase()}${option.slice(1)}`} value="true" aria-describedby={`protect-${option}-help`} />
                <label for={`protect-${option}`}>
                  {m(`protect.${option}`)}
                  <span class="help" id={`protect-${option}-help`}>
                    {' '}
                    {m(`protect.${option}Help`)}
                  </span>
                </label>
              </div>
            ))}
            <p class="help">{m('protect.limits')}</p>
            <p class="help">{m('protect.advice')}</p>
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
            {m('form.submit')}
          </button>
          <div class="progress" id="progress" hidden>
            <progress id="progress-bar" max={100} value={0} aria-labelledby="progress-text" />
            <p id="progress-text" aria-live="polite" />
          </div>
          <p class="error" id="form-error" role="alert" hidden />
        </form>
      )}
      <section id="receipt" class="receipt" hidden aria-labelledby="receipt-title" tabindex={-1}>
        <h2 id="receipt-title">{m('receipt.title')}</h2>
        <p>{m('receipt.keep')}</p>
        <p class="label">{m('receipt.link')}</p>
        <p class="secret">
          <a id="receipt-link" data-testid="receipt-link" />
        </p>
        <button type="button" id="receipt-copy" class="secondary" hidden>
          {m('receipt.copy')}
        </button>
        <p class="label" id="receipt-qr-label">
          {m('receipt.qr')}
        </p>
        <div class="qr" id="receipt-qr" />
        <p class="help">{m('receipt.tab')}</p>
        <div id="receipt-earlier" hidden>
          <p class="label">{m('receipt.earlier')}</p>
          <ul id="receipt-earlier-list" class="secret" />
        </div>
        {open && (
          <p>
            <button type="button" id="receipt-another" class="secondary">
              {m('receipt.another')}
            </button>
          </p>
        )}
      </section>
    </ContribLayout>
  );
}

export function CampaignNotFoundPage(props: { ctx: ContribPageContext; revoked?: boolean }) {
  const { m } = props.ctx;
  return (
    <ContribLayout ctx={props.ctx} title={m('page.notFoundTitle')}>
      <p>{props.revoked ? m('page.linkRevoked') : m('page.notFound')}</p>
    </ContribLayout>
  );
}
