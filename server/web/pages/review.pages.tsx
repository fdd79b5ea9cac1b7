import type { CaptionVersion } from '../../../shared/captions/caption-versions';
import type { AuditEntry } from '../../../shared/models/audit-entry.model';
import type { ReviewView } from '../../services/review.service';
import { CHECKLIST } from '../../services/review.service';
import { formatDateTime, formatFileSize, formatTime, statusName } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, Layout } from './layout';
import { reasonChoices } from './rejection-reasons';
import type { Submission } from '../../../shared/submissions/submission.model';
import { isProtected } from '../../../shared/protection/protection';

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


/**
 * What was just decided, and on which clip (a link to it: the title isolated, it is the contributor's text).
 * `undo`: the decision can still be taken back (nothing has left the system); `until`, when an approval's
 * release starts (its hold ends).
 */
export interface Decision {
  done: 'approved' | 'vote' | 'rejected';
  id: string;
  title: string | null;
  undo?: { until: Date | null } | null;
}

/** "Undo" for the moderator's last decision: a POST with the CSRF token, carrying the queue's filter. */
export function UndoForm(props: { ctx: StaffContext; id: string; filter: string; until: Date | null }) {
  const { ctx } = props;
  return (
    <form method="post" action={withSearch(`/staff/review/${props.id}/undo`, props.filter)} class="undo" data-testid="undo">
      <Csrf ctx={ctx} />
      {props.until && <span>{ctx.t('review.undoUntil', { time: formatTime(ctx.lang, props.until) })} </span>}
      <button type="submit">{ctx.t('review.undo')}</button>
    </form>
  );
}

function DecisionNotice(props: { ctx: StaffContext; decision: Decision; filter: string }) {
  const { t } = props.ctx;
  const { decision } = props;
  const [before = '', after = ''] = t(`review.decided.${decision.done}`).split('{clip}');
  return (
    <div class="notice" role="status" data-testid="decided">
      <p>
        {before}
        <a href={`/staff/review/${decision.id}`}>{decision.title === null ? t('review.decided.previous') : <bdi>{decision.title}</bdi>}</a>
        {after}
      </p>
      {decision.undo && <UndoForm ctx={props.ctx} id={decision.id} filter={props.filter} until={decision.undo.until} />}
    </div>
  );
}

const withSearch = (path: string, ...parts: string[]) => {
  const search = parts.filter(Boolean).join('&');
  return search ? `${path}?${search}` : path;
};

export function ReviewPage(props: { ctx: StaffContext; view: ReviewView; me: string; audit: AuditEntry[]; captions: string | null; captionVersions?: Array<Omit<CaptionVersion, 'cues'>>; withdrawn?: boolean; claimMinutes: number; declinedDays: number; filter?: string; decision?: Decision | null; undone?: 'approved' | 'vote' | 'rejected' | null; undoHere?: { until: Date | null } | null; protectionRendering?: boolean }) {
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
  // A withdrawn or rejected clip's organisation, title, message and contact are cleared with its media.
  const cleared = submission.personalDataClearedAt ? t('review.personalDataCleared', { date: formatDateTime(ctx.lang, submission.personalDataClearedAt) }) : null;

  // The queue's filter, carried by every link and form that leads to the next clip.
  const filter = props.filter ?? '';

  return (
    <Layout ctx={ctx} title={t('review.title', { title: submission.personalDataClearedAt ? id : submission.title })} wide>
      {props.decision && <DecisionNotice ctx={ctx} decision={props.decision} filter={filter} />}
      {props.undone && (
        <p class="notice" role="status" data-testid="undone">
          {t(`review.undone.${props.undone}`)}
        </p>
      )}
      <p>
        <a href={withSearch('/staff/queue', filter)}>{t('review.back')}</a> ·{' '}
        <a href={withSearch('/staff/queue/next', `skip=${id}`, filter)} data-key="n">
          {filter ? t('review.nextFiltered') : t('review.next')}
        </a>
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
            <dd>{formatFileSize(ctx.lang, submission.original.bytes)}</dd>
            <dt>{t('review.resolution')}</dt>
            <dd>{video ? `${video.displayWidth} × ${video.displayHeight}` : t('review.none')}</dd>
            <dt>{t('review.orientation')}</dt>
            <dd>{orientation ? t(`review.orientation.${orientation}`) : t('review.none')}</dd>
          </dl>
          {submission.originalDeletedAt ? (
            <p data-testid="original-deleted">{t('review.originalDeleted', { at: formatDateTime(ctx.lang, submission.originalDeletedAt) })}</p>
          ) : submission.status === 'withdrawn' ? (
            <p data-testid="original-deleted">{t('review.originalGoing')}</p>
          ) : null}
          {/* Nothing to download once the original went (retention), or is going (a withdrawal deletes it at once). */}
          {!submission.originalDeletedAt && submission.status !== 'withdrawn' && (
            <form method="post" action={`/staff/review/${id}/original`} class="original">
              <Csrf ctx={ctx} />
              <button type="submit" class="secondary">
                {t('review.downloadOriginal')}
              </button>
            </form>
          )}
        </section>

        <section class="details">
          <h2>{t('review.form')}</h2>
          {submission.protectionRequested && <p class="error">{t('review.protection')}</p>}
          <ProtectionSection ctx={ctx} submission={submission} inReview={inReview} rendering={props.protectionRendering === true} />
          <dl class="facts">
            <dt>{t('review.campaign')}</dt>
            <dd dir="auto">{campaign.name}</dd>
            <dt>{t('review.organisation')}</dt>
            <dd dir="auto">{cleared ?? submission.organisation}</dd>
            <dt>{t('review.country')}</dt>
            <dd>{submission.country}</dd>
            <dt>{t('review.language')}</dt>
            <dd>{submission.language}</dd>
            <dt>{t('review.titleField')}</dt>
            <dd lang={cleared ? undefined : submission.language} dir="auto">
              {cleared ?? submission.title}
            </dd>
            <dt>{t('review.message')}</dt>
            <dd lang={cleared ? undefined : submission.language} class="message" dir="auto">
              {cleared ?? (submission.message || t('review.none'))}
            </dd>
            <dt>{t('review.contact')}</dt>
            <dd>{cleared ?? submission.contactEmail ?? t('review.none')}</dd>
            <dt>{t('review.receivedAt')}</dt>
            <dd>{formatDateTime(ctx.lang, submission.createdAt)}</dd>
          </dl>
          <h2>{t('review.consent')}</h2>
          <p>{t('review.consentVersion', { version: submission.consent.version, language: submission.consent.language, at: formatDateTime(ctx.lang, submission.consent.givenAt) })}</p>
          {consentText ? (
            <ul lang={submission.consent.language} data-testid="consent">
              {consentText.statements.filter((s) => submission.consent.statements.includes(s.id)).map((s) => (
                <li dir="auto">{s.text}</li>
              ))}
            </ul>
          ) : (
            <p class="error">{t('review.consentMissing')}</p>
          )}
        </section>
      </div>

      <section class="decide">
        {!inReview ? (
          <div class="notice" data-testid="not-in-review">
            <p>{t('review.status', { status: statusName(t, submission.status) })}</p>
            {props.undoHere && <UndoForm ctx={ctx} id={id} filter={filter} until={props.undoHere.until} />}
          </div>
        ) : heldByOther ? (
          <p class="error" data-testid="claimed-by-other">
            {t('review.claimedByOther', { email: claim.email, until: formatDateTime(ctx.lang, claim.expiresAt) })}
          </p>
        ) : !mine ? (
          <form method="post" action={withSearch(`/staff/review/${id}/claim`, filter)}>
            <Csrf ctx={ctx} />
            <p class="help">{t('review.claimHelp', { minutes: props.claimMinutes })}</p>
            <button type="submit" data-key="c">
              {t('review.claim')}
            </button>
          </form>
        ) : (
          <>
            <p class="notice">{t('review.claimedByYou', { until: formatDateTime(ctx.lang, claim.expiresAt) })}</p>
            <p class="notice" role="status" data-restored hidden>
              {t('review.answersKept')}
            </p>
            {entry.sensitive && <p class="error">{t('review.sensitive')}</p>}
            {entry.approvals.length > 0 && <p>{t('review.votes', { emails: entry.approvals.map((v) => v.email).join(', ') })}</p>}
            {!voted && (
              <form method="post" action={withSearch(`/staff/review/${id}/approve`, filter)} class="checklist" data-keep={id}>
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
                {isProtected(submission.protection) && (
                  <div class="check confirm">
                    <input type="checkbox" id="protected-checked" name="protectedChecked" value="yes" required />
                    <label for="protected-checked">{t('review.protection.confirm')}</label>
                  </div>
                )}
                <button type="submit" data-key="a">
                  {t('review.approve')}
                </button>
              </form>
            )}
            <form method="post" action={withSearch(`/staff/review/${id}/reject`, filter)} class="reject" data-keep={id}>
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

/** What protection this clip has, where to check its masks, or (in review, unprotected) the switch to hide faces. */
function ProtectionSection(props: { ctx: StaffContext; submission: Submission; inReview: boolean; rendering: boolean }) {
  const { ctx, submission } = props;
  const { t } = ctx;
  const id = submission._id.toHexString();
  const protection = submission.protection;
  if (!isProtected(protection)) {
    if (!props.inReview || !submission.outputs.master) return null;
    return (
      <form method="post" action={`/staff/review/${id}/protect`} class="protect">
        <Csrf ctx={ctx} />
        <p class="help">{t('review.protection.enableHelp')}</p>
        <button type="submit" class="secondary">
          {t('review.protection.enable')}
        </button>
      </form>
    );
  }
  return (
    <section class="protection" data-testid="protection" aria-labelledby="protection-title">
      <h3 id="protection-title">{t('review.protection.title')}</h3>
      <ul>
        {protection!.face && !protection!.card && <li>{t('review.protection.face')}</li>}
        {protection!.voice && <li>{t('review.protection.voice')}</li>}
        {protection!.card && <li>{t('review.protection.card')}</li>}
      </ul>
      <p class="help">{t(protection!.by === 'moderator' ? 'review.protection.byModerator' : 'review.protection.byContributor', { date: formatDateTime(ctx.lang, protection!.at) })}</p>
      <p class="help">{t('review.protection.watch')}</p>
      {/* Followed while the page is open (staff.js polls protection-state): the notice says when the wait is over. */}
      {props.rendering ? (
        <p class="notice" data-testid="protection-rendering" role="status" data-protection-wait={`/staff/review/${id}/protection-state`} data-ready-text={t('review.protection.renderReady')}>
          {t('review.protection.rendering')}
        </p>
      ) : (
        !submission.outputs.protectedMaster && (
          <p class="notice" data-testid="protection-not-ready" role="status" data-protection-wait={`/staff/review/${id}/protection-state`} data-ready-text={t('review.protection.masterReady')}>
            {t('review.protection.notReady')}
          </p>
        )
      )}
      {protection!.face && !protection!.card && props.inReview && submission.outputs.master && (
        <p>
          <a href={`/staff/review/${id}/faces`}>{t('review.protection.checkFaces')}</a>
        </p>
      )}
    </section>
  );
}
