import { MASK_STYLES } from '../../../shared/protection/protection';
import type { FacesView } from '../../services/protection.service';
import { ASSETS } from '../assets/assets';
import type { StaffContext } from '../staff-route';
import { Csrf, Layout } from './layout';

const seconds = (n: number) => (Math.round(n * 100) / 100).toFixed(2);
const percent = (n: number) => (Math.round(n * 1000) / 10).toFixed(1);

/**
 * The face-mask editor of a protected clip: the protected preview (masks burned in) with every mask outlined, and
 * the masks as a form — the detector's (keep or remove) and the moderators' boxes (a time range and a rectangle in
 * percent of the picture), with a spare row to add one. The script only helps to fill the form.
 */
export function FacesPage(props: { ctx: StaffContext; view: FacesView; saved: number | null }) {
  const { ctx, view } = props;
  const { t } = ctx;
  const { submission, track } = view;
  const id = submission._id.toHexString();
  const fps = track?.settings.frameFps ?? 25;
  const moderatorMasks = (track?.masks ?? []).filter((m) => m.source === 'moderator');
  const detectorMasks = (track?.masks ?? []).filter((m) => m.source === 'detector');
  const samples = JSON.stringify({ step: view.sampleSeconds, masks: view.samples.filter((s) => s.source === 'detector') });
  const rows = [...moderatorMasks.map((m) => ({ id: m.id, start: seconds(m.start), end: seconds(m.end), x: percent(m.keys[0]!.box.x), y: percent(m.keys[0]!.box.y), w: percent(m.keys[0]!.box.w), h: percent(m.keys[0]!.box.h) })), { id: '', start: '', end: '', x: '', y: '', w: '', h: '' }];
  return (
    <Layout ctx={ctx} title={t('faces.title')} wide>
      <p>
        <a href={`/staff/review/${id}`}>{t('faces.back')}</a>
      </p>
      <p class="help">{t('faces.intro')}</p>
      {props.saved !== null && (
        <p class="notice" role="status" data-testid="faces-saved">
          {t('faces.saved', { version: props.saved })}
        </p>
      )}
      {view.rendering && (
        <p class="notice" data-testid="faces-rendering">
          {t('review.protection.rendering')}
        </p>
      )}
      {!track ? (
        <p class="notice">{t('faces.notReady')}</p>
      ) : (
        <>
          <p class="help" data-testid="faces-summary">
            {t('faces.summary', { frames: track.framesAnalysed, withFaces: track.framesWithFaces, masks: track.masks.length, detector: `${track.detector.name} ${track.detector.version}` })}
          </p>
          <div class="faces-stage" id="faces-stage" data-samples={samples} data-fps={String(fps)}>
            <video controls playsinline preload="metadata" src={`/staff/review/${id}/media/preview`} aria-label={t('faces.player')} />
            <div class="faces-overlay" id="faces-overlay" hidden aria-hidden="true" />
          </div>
          <div class="faces-controls" hidden data-needs-script>
            <button type="button" class="secondary" id="faces-play">
              {t('faces.playPause')}
            </button>
            <button type="button" class="secondary" id="faces-back">
              {t('faces.frameBack')}
            </button>
            <button type="button" class="secondary" id="faces-forward">
              {t('faces.frameForward')}
            </button>
            <button type="button" class="secondary" id="faces-add">
              {t('faces.addHere')}
            </button>
            <output id="faces-time" aria-live="off" />
          </div>
          <p class="help" hidden data-needs-script>
            {t('faces.keys')}
          </p>
          <form method="post" action={`/staff/review/${id}/faces`}>
            <Csrf ctx={ctx} />
            <input type="hidden" name="version" value={String(track.version)} />
            <h2>{t('faces.detected', { count: detectorMasks.length })}</h2>
            {detectorMasks.length === 0 ? (
              <p>{t('faces.noneDetected')}</p>
            ) : (
              <div class="table-scroll">
                <table class="boxes" data-testid="detector-masks">
                  <thead>
                    <tr>
                      <th>{t('faces.keep')}</th>
                      <th>{t('faces.from')}</th>
                      <th>{t('faces.to')}</th>
                      <th>{t('faces.detections')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {detectorMasks.map((mask) => (
                      <tr data-mask={mask.id}>
                        <td>
                          <input type="checkbox" name="keep" value={mask.id} checked aria-label={t('faces.keepMask', { from: seconds(mask.start), to: seconds(mask.end) })} />
                        </td>
                        <td>{seconds(mask.start)} s</td>
                        <td>{seconds(mask.end)} s</td>
                        <td>{mask.keys.length}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            <h2>{t('faces.added')}</h2>
            <p class="help">{t('faces.addedHelp')}</p>
            <div class="table-scroll">
              <table class="boxes">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>{t('faces.from')}</th>
                    <th>{t('faces.to')}</th>
                    <th>{t('faces.left')}</th>
                    <th>{t('faces.top')}</th>
                    <th>{t('faces.width')}</th>
                    <th>{t('faces.height')}</th>
                  </tr>
                </thead>
                <tbody id="moderator-boxes">
                  {rows.map((row, i) => (
                    <tr data-box>
                      <td>
                        {i + 1}
                        <input type="hidden" name="boxId" value={row.id} />
                      </td>
                      {(['start', 'end', 'x', 'y', 'w', 'h'] as const).map((field) => (
                        <td>
                          <input
                            type="text"
                            inputMode="decimal"
                            name={`box${field === 'start' ? 'Start' : field === 'end' ? 'End' : field.toUpperCase()}`}
                            data-field={field}
                            value={row[field]}
                            aria-label={t(`faces.field.${field}`, { row: i + 1 })}
                          />
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <fieldset>
              <legend>{t('faces.style')}</legend>
              {MASK_STYLES.map((style) => (
                <label class="block">
                  <input type="radio" name="style" value={style} checked={track.style === style} />
                  {t(style === 'solid' ? 'faces.styleSolid' : 'faces.stylePixelate')}
                </label>
              ))}
            </fieldset>
            <button type="submit">{t('faces.save')}</button>
          </form>
        </>
      )}
      <script src={`/staff/assets/faces.js?v=${ASSETS['faces.js']!.etag.slice(1, 9)}`} defer />
    </Layout>
  );
}
