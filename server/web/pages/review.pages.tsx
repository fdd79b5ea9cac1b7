import type { CaptionVersion } from '../../../shared/captions/caption-versions';
import type { AuditEntry } from '../../../shared/models/audit-entry.model';
import type { ReviewView } from '../../services/review.service';
import { CHECKLIST } from '../../services/review.service';
import { formatDateTime, statusName } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, Layout } from './layout';
import { reasonChoices } from './rejection-reasons';

/**
 * Withdrawal by a moderator: behind a disclosure, with a box to tick (it cannot be undone) and a reason,
 * so it is never one click away. The server checks both.
 */
function WithdrawSection(props: { ctx: StaffContext; id: string; status: string; done: boolean }) {
  const { ctx, id } = props;
  const { t } = ctx;
  if (props.status === 'withdrawn') {
    return (
      <section id="withdraw">
        <p class="notice" data-testid="withdrawn">
          {props.done ? t('review.withdrawDone') : t('review.withdrawnAlready')}
        </p>
      </section>
    );
  }
  return (
    <section id="withdraw">
      <details>
        <summary>{t('review.withdraw')}</summary>
        <form method="post" action={`/staff/review/${id}/withdraw`} class="withdraw">
          <Csrf ctx={ctx} />
          <p class="help">{t('review.withdrawHelp', { status: statusName(t, props.status) })}</p>
          <label for="withdraw-reason">{t('review.withdrawReason')}</label>
          <textarea id="withdraw-reason" name="reason" rows={2} maxLength={2000} required />
          <label>
            <input type="checkbox" name="confirm" value="yes" required /> {t('review.withdrawConfirm')}
          </label>
          <button type="submit" class="danger">
            {t('review.withdrawSubmit')}
          </button>
        </form>
      </details>
    </section>
  );
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

export function ReviewPage(props: { ctx: StaffContext; view: ReviewView; me: string; audit: AuditEntry[]; captions: string | null; captionVersions?: Array<Omit<CaptionVersion, 'cues'>>; withdrawn?: boolean; claimMinutes: number; declinedDays: number }) {
  const { ctx, view, me } = props;
  const { t } = ctx;
  const { submission, campaign, entry, claim } = view;
  const id = submission._id.toHexString();
  const media = submission.media;
  const video = media?.video ?? null;
  const outputs = submission.outputs as Record<string, unknown>;
  const has = (name: string) => Boolean(outputs[name]);
  const mediaUrl = (name: string) => `/staff/review/${id}/media/${name}`;
  // The latest caption version of each language (moderators' edits), and the preview it was burned into.
  const latestByLanguage = new Map<string, Omit<CaptionVersion, 'cues'>>();
  for (const v of props.captionVersions ?? []) if ((latestByLanguage.get(v.language)?.version ?? 0) < v.version) latestByLanguage.set(v.language, v);
  const chosen = props.captions && props.captions !== '1' ? latestByLanguage.get(props.captions) : undefined;
  const edited = latestByLanguage.get(submission.language.toLowerCase());
  const showCaptioned = Boolean(props.captions && (chosen?.preview || has('captionedPreview')));
  const captionedSrc = chosen?.preview ? `/staff/review/${id}/captions/${chosen._id.toHexString()}/preview` : edited?.preview ? `/staff/review/${id}/captions/${edited._id.toHexString()}/preview` : mediaUrl('captionedPreview');
  const captionLanguages = [...new Set([...(has('captionsVtt') || has('captionsSrt') ? [submission.language.toLowerCase()] : []), ...latestByLanguage.keys()])];
  const consentVersion = campaign.consentVersions.find((v) => v.version === submission.consent.version);
  const consentText = consentVersion?.texts.find((x) => x.language === submission.consent.language);
  const mine = claim?.by === me;
  const heldByOther = claim && !mine;
  const inReview = submission.status === 'in_review' && entry !== null;
  const contributorLanguage = submission.language;
  const orientation = video ? (video.displayHeight > video.displayWidth ? 'portrait' : video.displayHeight < video.displayWidth ? 'landscape' : 'square') : null;
  const voted = entry?.approvals.some((v) => v.by === me) ?? false;

  return (
    <Layout ctx={ctx} title={t('review.title', { title: submission.title })} wide>
      <p>
        <a href="/staff/queue">{t('review.back')}</a> · <a href={`/staff/queue/next?skip=${id}`} data-key="n">{t('review.next')}</a>
      </p>
      <div class="review">
        <section class="player" aria-label={t('review.preview')}>
          {has('preview') ? (
            <>
              <video controls preload="metadata" playsinline poster={has('poster') ? mediaUrl('poster') : undefined} src={showCaptioned ? captionedSrc : mediaUrl('preview')} data-key="w" data-testid="preview">
                {!showCaptioned && has('captionsVtt') && <track kind="captions" src={mediaUrl('captionsVtt')} srclang={contributorLanguage} label={t('review.captionsTrack')} />}
                {t('review.videoFallback')} <a href={mediaUrl('preview')}>{t('review.preview')}</a>
              </video>
              {has('captionedPreview') && (
                <p>
                  {showCaptioned ? <a href={`/staff/review/${id}`}>{t('review.withoutCaptions')}</a> : <a href={`/staff/review/${id}?captions=1`}>{t('review.withCaptions')}</a>}
                </p>
              )}
            </>
          ) : submission.mediaDeletedAt ? (
            <p class="notice" data-testid="media-deleted">
              {t('review.mediaDeleted', { at: formatDateTime(ctx.lang, submission.mediaDeletedAt), days: props.declinedDays })}
            </p>
          ) : (
            <p>{t('review.noPreview')}</p>
          )}
          <h2>{t('review.captions')}</h2>
          {captionLanguages.length > 0 && (
          <ul data-testid="caption-languages">
            {captionLanguages.map((language) => {
              const latest = latestByLanguage.get(language);
              return (
                <li data-language={language}>
                  {latest ? t('review.captionsLatest', { language, version: latest.version }) : t('review.captionsAsSent', { language })}
                  {(latest?.preview || (!latest && has('captionedPreview'))) && (
                    <>
                      {' · '}
                      <a href={`/staff/review/${id}?captions=${latest ? language : '1'}`}>{t('review.captionsWatch')}</a>
                    </>
                  )}
                </li>
              );
            })}
          </ul>
          )}
          {!submission.mediaDeletedAt && (
            <p>
              <a href={`/staff/review/${id}/captions`}>{t('captions.edit')}</a>
            </p>
          )}
          <h2>{t('review.facts')}</h2>
          <dl class="facts">
            <dt>{t('review.duration')}</dt>
            <dd>{media?.durationSeconds != null ? t('duration.seconds', { seconds: Math.round(media.durationSeconds * 10) / 10 }) : t('review.none')}</dd>
            <dt>{t('review.originalSize')}</dt>
            <dd>{megabytes(submission.original.bytes)}</dd>
            <dt>{t('review.resolution')}</dt>
            <dd>{video ? `${video.displayWidth} × ${video.displayHeight}` : t('review.none')}</dd>
            <dt>{t('review.orientation')}</dt>
            <dd>{orientation ? t(`review.orientation.${orientation}`) : t('review.none')}</dd>
          </dl>
          {!submission.originalDeletedAt && (
            <p>
              <a href={`/staff/review/${id}/original`}>{t('review.downloadOriginal')}</a>
            </p>
          )}
        </section>

        <section class="details">
          <h2>{t('review.form')}</h2>
          {submission.protectionRequested && <p class="error">{t('review.protection')}</p>}
          <dl class="facts">
            <dt>{t('review.campaign')}</dt>
            <dd>{campaign.name}</dd>
            <dt>{t('review.organisation')}</dt>
            <dd>{submission.organisation}</dd>
            <dt>{t('review.country')}</dt>
            <dd>{submission.country}</dd>
            <dt>{t('review.language')}</dt>
            <dd>{submission.language}</dd>
            <dt>{t('review.titleField')}</dt>
            <dd lang={submission.language}>{submission.title}</dd>
            <dt>{t('review.message')}</dt>
            <dd lang={submission.language} class="message">
              {submission.message || t('review.none')}
            </dd>
            <dt>{t('review.contact')}</dt>
            <dd>{submission.contactEmail ?? t('review.none')}</dd>
            <dt>{t('review.receivedAt')}</dt>
            <dd>{formatDateTime(ctx.lang, submission.createdAt)}</dd>
          </dl>
          <h2>{t('review.consent')}</h2>
          <p>{t('review.consentVersion', { version: submission.consent.version, language: submission.consent.language, at: formatDateTime(ctx.lang, submission.consent.givenAt) })}</p>
          {consentText ? (
            <ul lang={submission.consent.language} data-testid="consent">
              {consentText.statements.filter((s) => submission.consent.statements.includes(s.id)).map((s) => (
                <li>{s.text}</li>
              ))}
            </ul>
          ) : (
            <p class="error">{t('review.consentMissing')}</p>
          )}
        </section>
      </div>

      <section class="decide">
        {!inReview ? (
          <p class="notice" data-testid="not-in-review">
            {t('review.status', { status: statusName(t, submission.status) })}
          </p>
        ) : heldByOther ? (
          <p class="error" data-testid="claimed-by-other">
            {t('review.claimedByOther', { email: claim.email, until: formatDateTime(ctx.lang, claim.expiresAt) })}
          </p>
        ) : !mine ? (
          <form method="post" action={`/staff/review/${id}/claim`}>
            <Csrf ctx={ctx} />
            <p class="help">{t('review.claimHelp', { minutes: props.claimMinutes })}</p>
            <button type="submit" data-key="c">
              {t('review.claim')}
            </button>
          </form>
        ) : (
          <>
            <p class="notice">{t('review.claimedByYou', { until: formatDateTime(ctx.lang, claim.expiresAt) })}</p>
            {entry.sensitive && <p class="error">{t('review.sensitive')}</p>}
            {entry.approvals.length > 0 && <p>{t('review.votes', { emails: entry.approvals.map((v) => v.email).join(', ') })}</p>}
            {!voted && (
              <form method="post" action={`/staff/review/${id}/approve`} class="checklist">
                <Csrf ctx={ctx} />
                <fieldset>
                  <legend>{t('review.checklist')}</legend>
                  <p class="help">{t('review.checklistHelp')}</p>
                  {CHECKLIST.map((item) => (
                    <div class="check" role="radiogroup" aria-labelledby={`q-${item}`}>
                      <span id={`q-${item}`}>{t(`review.checklist.${item}`)}</span>
                      <label>
                        <input type="radio" name={item} value="clear" required /> {t('review.answer.clear')}
                      </label>
                      <label>
                        <input type="radio" name={item} value="present" checked={item === 'protection' && submission.protectionRequested === true} /> {t('review.answer.present')}
                      </label>
                    </div>
                  ))}
                </fieldset>
                <button type="submit" data-key="a">
                  {t('review.approve')}
                </button>
              </form>
            )}
            <form method="post" action={`/staff/review/${id}/reject`} class="reject">
              <Csrf ctx={ctx} />
              <fieldset>
                <legend>{t('review.reject')}</legend>
                <label for="reject-template">{t('review.rejectReason', { language: contributorLanguage })}</label>
                <select id="reject-template" name="template" data-key="r">
                  <option value="">{t('review.rejectNone')}</option>
                  {reasonChoices(campaign, ctx.lang).map((reason) => (
                    <option value={reason.id}>{reason.text}</option>
                  ))}
                </select>
                <label for="reject-note">{t('review.rejectNote')}</label>
                <textarea id="reject-note" name="note" rows={3} maxLength={2000} />
                <button type="submit" class="secondary">
                  {t('review.reject')}
                </button>
              </fieldset>
            </form>
          </>
        )}
      </section>

      <WithdrawSection ctx={ctx} id={id} status={submission.status} done={props.withdrawn === true} />

      <section>
        <h2>{t('review.history')}</h2>
        {props.audit.length === 0 ? (
          <p>{t('review.historyEmpty')}</p>
        ) : (
          <ul data-testid="clip-audit">
            {props.audit.map((a) => (
              <li data-action={a.action}>
                {formatDateTime(ctx.lang, a.at)} · {a.actor.email ?? a.actor.id ?? '—'} · {t(`audit.action.${a.action}`)}
                {a.action === 'approve' && typeof a.details.approvals === 'number' && ` (${t('queue.votes', { count: a.details.approvals })})`}
              </li>
            ))}
          </ul>
        )}
      </section>
      <p class="help shortcuts" hidden data-shortcuts>
        {t('review.shortcuts')}
      </p>
    </Layout>
  );
}
