import { CAPTION_LANGUAGE_PATTERN, type CaptionCue } from '../../../shared/captions/caption-versions';
import type { CueProblem, CueRow } from '../../../shared/subtitles/cue-edits';
import { formatCueTime } from '../../../shared/subtitles/cue-edits';
import type { CaptionsView } from '../../services/captions.service';
import { formatDateTime, statusName, type MessageKey } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Csrf, Layout } from './layout';

export interface FailedSave {
  rows: CueRow[];
  problems: CueProblem[];
  from: string | null;
  message: string | null;
}

const rowsOf = (cues: CaptionCue[]): CueRow[] => cues.map((c) => ({ start: formatCueTime(c.startMs), end: formatCueTime(c.endMs), text: c.text }));

function problemText(ctx: StaffContext, problem: CueProblem): string {
  const field = problem.field ? ctx.t(`captions.field.${problem.field}` as MessageKey) : '';
  return ctx.t(`captions.problem.${problem.code}` as MessageKey, { ...problem.values, cue: problem.cue, field });
}

/**
 * The caption editor: the languages of a clip, the cues of one (start, end, text; remove; one blank row to
 * add a cue), its versions, a new language typed from another or uploaded. Without script: plain forms.
 */
export function CaptionsPage(props: { ctx: StaffContext; view: CaptionsView; saved: number | null; failed: FailedSave | null }) {
  const { ctx, view, failed } = props;
  const { t } = ctx;
  const { submission, language, shown, template } = view;
  const id = submission._id.toHexString();
  const editable = view.locked === null && shown.latest;
  const latest = view.versions.at(-1) ?? null;
  const rows: CueRow[] = failed?.rows ?? (template ? template.cues.map((c) => ({ start: formatCueTime(c.startMs), end: formatCueTime(c.endMs), text: '' })) : rowsOf(shown.cues));
  const hints = template ? template.cues.map((c) => c.text) : [];
  const wrong = new Map<number, Set<string>>();
  for (const p of failed?.problems ?? []) wrong.set(p.cue, (wrong.get(p.cue) ?? new Set()).add(p.field ?? ''));
  const from = failed?.from ?? template?.from ?? null;

  return (
    <Layout ctx={ctx} title={t('captions.title', { title: submission.title })} wide>
      <p>
        <a href={`/staff/review/${id}`}>{t('captions.back')}</a>
      </p>
      <nav aria-label={t('captions.languages')}>
        <ul class="languages">
          {view.tracks.map((track) => (
            <li>
              {track.language === language ? <strong>{track.language}</strong> : <a href={`/staff/review/${id}/captions?lang=${track.language}`}>{track.language}</a>}{' '}
              <span class="help">{track.latest ? t('captions.versionShort', { version: track.latest.version }) : t('captions.contributorShort')}</span>
            </li>
          ))}
        </ul>
      </nav>
      {props.saved !== null && (
        <p class="notice" role="status" data-testid="saved">
          {t('captions.saved', { language, version: props.saved })}
        </p>
      )}
      {failed && (
        <div class="error" role="alert" data-testid="problems">
          <p>{failed.message ?? t('captions.notSaved')}</p>
          <ul>
            {failed.problems.map((p) => (
              <li>{problemText(ctx, p)}</li>
            ))}
          </ul>
        </div>
      )}

      {latest && (
        <section aria-label={t('captions.preview')}>
          <h2>{t('captions.preview')}</h2>
          {latest.preview ? (
            <video controls preload="metadata" playsinline src={`/staff/review/${id}/captions/${latest._id.toHexString()}/preview`} data-testid="captioned-preview" />
          ) : (
            <p class="help" data-testid="preview-pending">
              {latest.previewError ? t('captions.previewFailed') : t('captions.previewPending')}
            </p>
          )}
        </section>
      )}

      <h2>{template ? t('captions.translating', { language, from: template.from }) : shown.version === null ? t('captions.contributorTrack', { language }) : t('captions.version', { language, version: shown.version })}</h2>
      {!shown.latest && <p class="notice">{t('captions.older', { latest: latest?.version ?? 0 })}</p>}
      {view.locked === 'status' && <p class="notice">{t('captions.lockedStatus', { status: statusName(t, submission.status) })}</p>}
      {view.locked === 'claimed' && <p class="notice">{t('captions.lockedClaimed', { email: view.claim?.email ?? '' })}</p>}
      {editable ? (
        <form method="post" action={`/staff/review/${id}/captions`} class="cues">
          <Csrf ctx={ctx} />
          <input type="hidden" name="lang" value={language} />
          {from && <input type="hidden" name="from" value={from} />}
          <p class="help">{t('captions.help', { duration: formatCueTime(view.durationMs) })}</p>
          <table>
            <thead>
              <tr>
                <th>{t('captions.cue')}</th>
                <th>{t('captions.field.start')}</th>
                <th>{t('captions.field.end')}</th>
                <th>{t('captions.field.text')}</th>
                <th>{t('captions.remove')}</th>
              </tr>
            </thead>
            <tbody>
              {[...rows, { start: '', end: '', text: '' }].map((row, i) => {
                const n = i + 1;
                const bad = wrong.get(n) ?? new Set<string>();
                const isNew = i === rows.length;
                return (
                  <tr data-cue={n}>
                    <td>{isNew ? t('captions.newCue') : n}</td>
                    <td>
                      <input type="text" name="start" value={row.start} inputMode="decimal" size={12} aria-label={t('captions.cueField', { cue: n, field: t('captions.field.start') })} aria-invalid={bad.has('start') ? 'true' : undefined} />
                    </td>
                    <td>
                      <input type="text" name="end" value={row.end} inputMode="decimal" size={12} aria-label={t('captions.cueField', { cue: n, field: t('captions.field.end') })} aria-invalid={bad.has('end') ? 'true' : undefined} />
                    </td>
                    <td>
                      {hints[i] !== undefined && (
                        <p class="help" lang={from ?? undefined}>
                          {hints[i]}
                        </p>
                      )}
                      <textarea name="text" rows={2} lang={language} dir="auto" aria-label={t('captions.cueField', { cue: n, field: t('captions.field.text') })} aria-invalid={bad.has('text') ? 'true' : undefined}>
                        {row.text}
                      </textarea>
                    </td>
                    <td>{!isNew && <input type="checkbox" name="remove" value={String(n)} aria-label={t('captions.removeCue', { cue: n })} />}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <button type="submit">{t('captions.save', { version: (latest?.version ?? (shown.version === null && shown.cues.length > 0 ? 1 : 0)) + 1 })}</button>
        </form>
      ) : (
        <table data-testid="cues">
          <tbody>
            {shown.cues.map((c, i) => (
              <tr>
                <td>{i + 1}</td>
                <td>{formatCueTime(c.startMs)}</td>
                <td>{formatCueTime(c.endMs)}</td>
                <td lang={language} class="message" dir="auto">
                  {c.text}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>{t('captions.versions')}</h2>
      {view.versions.length === 0 ? (
        <p class="help">{t('captions.noVersions')}</p>
      ) : (
        <ol data-testid="versions">
          {view.versions.map((v) => (
            <li data-version={v.version}>
              <a href={`/staff/review/${id}/captions?lang=${language}&version=${v.version}`}>{t('captions.versionShort', { version: v.version })}</a> · {t(`captions.source.${v.source}` as MessageKey, { from: v.from ?? '' })} · {v.author.email ?? t('captions.contributor')} · {formatDateTime(ctx.lang, v.createdAt)}
            </li>
          ))}
        </ol>
      )}

      {view.locked === null && (
        <section>
          <h2>{t('captions.addLanguage')}</h2>
          <form method="get" action={`/staff/review/${id}/captions`} class="inline-form">
            <label>
              {t('captions.newLanguage')} <input type="text" name="lang" required pattern={CAPTION_LANGUAGE_PATTERN} size={6} />
            </label>
            <label>
              {t('captions.fromLanguage')}{' '}
              <select name="from">
                {view.tracks.map((track) => (
                  <option value={track.language}>{track.language}</option>
                ))}
              </select>
            </label>
            <button type="submit" class="secondary">
              {t('captions.type')}
            </button>
          </form>
          <form method="post" action={`/staff/review/${id}/captions/upload`} enctype="multipart/form-data" class="inline-form">
            <Csrf ctx={ctx} />
            <label>
              {t('captions.uploadLanguage')} <input type="text" name="lang" required pattern={CAPTION_LANGUAGE_PATTERN} size={6} value={language} />
            </label>
            <label>
              {t('captions.file')} <input type="file" name="file" accept=".srt,.vtt,text/vtt,application/x-subrip" required />
            </label>
            <button type="submit" class="secondary">
              {t('captions.upload')}
            </button>
          </form>
        </section>
      )}
    </Layout>
  );
}
