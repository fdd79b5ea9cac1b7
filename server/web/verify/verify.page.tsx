import { ContribLayout, type ContribPageContext } from '../contrib/campaign.page';
import type { ContentMatchAnswer, TimelineSegment, VerifyAnswer } from '../../../shared/provenance/verify-answer';
import type { CheckView } from '../../services/verify.service';

/**
 * The public verification pages: the form (`/verify`), and a check's answer (`/verify/<id>`), which reloads itself
 * every few seconds until the answer is there (no script needed). Plain words first; the timeline (an SVG drawn
 * here, no third-party script) and its text list after.
 */

const MiB = 1024 * 1024;

export function VerifyFormPage(props: { ctx: ContribPageContext; maxBytes: number; maxSeconds: number; error?: string | null; release?: { campaign: string; published: string } | null }) {
  const { ctx } = props;
  const { m } = ctx;
  return (
    <ContribLayout ctx={ctx} title={m('verify.title')} privacyNote={m('verify.privacy')}>
      <p>{m('verify.intro')}</p>
      {props.release && (
        <p class="notice" data-testid="verify-release">
          {m('verify.forRelease', { campaign: props.release.campaign, date: props.release.published })}
        </p>
      )}
      {props.error && (
        <p class="error" role="alert" data-testid="verify-error">
          {props.error}
        </p>
      )}
      <form method="post" action={`/verify?lang=${encodeURIComponent(ctx.lang)}`} enctype="multipart/form-data">
        <label for="verify-file">{m('verify.file')}</label>
        <p class="help" id="verify-file-help">
          {m('verify.fileHelp', { mb: Math.floor(props.maxBytes / MiB), minutes: Math.floor(props.maxSeconds / 60) })}
        </p>
        <input type="file" id="verify-file" name="file" accept="video/*,image/jpeg" required aria-describedby="verify-file-help" />
        <p>
          <button type="submit">{m('verify.submit')}</button>
        </p>
      </form>
      <h2>{m('verify.howTitle')}</h2>
      <p class="help">{m('verify.how')}</p>
      <p class="help">
        <a href="/verify/root.pem">{m('verify.root')}</a>
      </p>
    </ContribLayout>
  );
}

export function VerifyResultPage(props: { ctx: ContribPageContext; check: CheckView }) {
  const { ctx, check } = props;
  const { m } = ctx;
  const waiting = check.status === 'waiting' || check.status === 'checking';
  return (
    <ContribLayout ctx={ctx} title={m('verify.resultTitle')} refreshSeconds={waiting ? 3 : undefined} privacyNote={m('verify.privacy')}>
      <section aria-live="polite" data-testid="verify-result" data-status={check.status} data-verdict={check.answer?.verdict ?? ''}>
        {waiting && <p>{m('verify.waiting')}</p>}
        {check.status === 'failed' && (
          <p class="error" role="alert">
            {m(`verify.failure.${check.failure ?? 'internal'}`)}
          </p>
        )}
        {check.answer && <Answer ctx={ctx} answer={check.answer} />}
      </section>
      <p>
        <a href={`/verify?lang=${encodeURIComponent(ctx.lang)}`}>{m('verify.again')}</a>
      </p>
    </ContribLayout>
  );
}

function Answer(props: { ctx: ContribPageContext; answer: VerifyAnswer }) {
  const { m } = props.ctx;
  const a = props.answer;
  const values = { signer: a.signer ?? '?', campaign: a.campaign ?? '?', date: a.published ?? '?' };
  return (
    <>
      <p class={a.verdict === 'signed' || a.verdict === 'matches' ? 'notice' : a.verdict === 'no_match' ? undefined : 'error'} data-testid="verify-verdict">
        <strong>{m(`verify.verdict.${a.verdict}`, values)}</strong>
      </p>
      <p class="help">{m(`verify.explain.${a.verdict}`, values)}</p>
      {a.photo && a.verdict === 'no_match' && <p class="help">{m('verify.photoOnly')}</p>}
      {a.match && <Timeline ctx={props.ctx} match={a.match} />}
    </>
  );
}

/** m:ss */
function clock(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

function Timeline(props: { ctx: ContribPageContext; match: ContentMatchAnswer }) {
  const { m } = props.ctx;
  const { match } = props;
  const total = Math.max(match.releaseSeconds, 1);
  const track = (name: 'picture' | 'sound', segments: TimelineSegment[] | null) => (
    <div class="timeline" data-testid={`timeline-${name}`}>
      <h3>{m(`verify.track.${name}`)}</h3>
      {segments === null ? (
        <p class="help">{m('verify.track.none')}</p>
      ) : (
        <>
          <svg viewBox="0 0 1000 24" width="100%" height="24" role="img" aria-label={m(`verify.track.${name}`)} preserveAspectRatio="none">
            <rect x="0" y="0" width="1000" height="24" class="tl-none" />
            {segments.map((s) => (
              <rect x={String(Math.round((s.from / total) * 1000))} y="0" width={String(Math.max(1, Math.round(((s.to - s.from) / total) * 1000)))} height="24" class={`tl-${s.kind}`} />
            ))}
          </svg>
          <ul class="timeline-list">
            {segments.map((s) => (
              <li data-kind={s.kind} data-from={s.from} data-to={s.to}>
                {clock(s.from)}–{clock(s.to)}: {m(`verify.kind.${s.kind}`)}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
  return (
    <section data-testid="verify-timeline">
      <h2>{m('verify.timeline', { release: clock(match.releaseSeconds), copy: clock(match.copySeconds) })}</h2>
      {track('picture', match.picture)}
      {track('sound', match.sound)}
      {match.foreign.length > 0 && (
        <p class="help" data-testid="verify-foreign">
          {m('verify.foreign', { ranges: match.foreign.map((r) => `${clock(r.from)}–${clock(r.to)}`).join(', ') })}
        </p>
      )}
    </section>
  );
}
