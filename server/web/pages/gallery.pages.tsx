import type { GalleryFilters, GalleryItem } from '../../services/gallery.service';
import type { GalleryFile } from '../../services/release-files';
import { isolate } from '../../../shared/text/hostile-text';
import { formatDateTime, formatFileSize, type MessageKey } from '../messages/messages';
import type { StaffContext } from '../staff-route';
import { Layout } from './layout';

const SHAPE_KEYS: Record<string, MessageKey> = { source: 'gallery.shape.source', square: 'gallery.shape.square', vertical: 'gallery.shape.vertical' };

function fileLabel(ctx: StaffContext, file: GalleryFile): string {
  const { t } = ctx;
  if (file.kind === 'captions') return t('gallery.file.captions', { language: file.language ?? '', format: file.format.toUpperCase() });
  const shape = t(SHAPE_KEYS[file.shape ?? 'source']!);
  if (file.kind === 'poster') return t('gallery.file.poster', { shape });
  return file.language ? t('gallery.file.captioned', { shape, language: file.language }) : t('gallery.file.plain', { shape });
}


/** The social teams' gallery: a filter form (plain GET, works without script) and the released clips. */
export function GalleryPage(props: { ctx: StaffContext; items: GalleryItem[]; campaigns: Array<{ slug: string; name: string }>; filters: GalleryFilters; error?: string | null }) {
  const { ctx, items, filters } = props;
  const { t } = ctx;
  const posterShape = filters.shape ?? 'source';
  const useSuffix = filters.use && filters.use !== 'social' ? `?use=${filters.use}` : '';
  const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 10) : '');
  return (
    <Layout ctx={ctx} title={t('gallery.title')}>
      <form method="get" action="/staff/gallery" class="inline-form" aria-label={t('gallery.filters')}>
        <label>
          {t('gallery.campaign')}
          <select name="campaign">
            <option value="">{t('gallery.any')}</option>
            {props.campaigns.map((c) => (
              <option value={c.slug} selected={filters.campaign === c.slug}>
                {isolate(c.name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('gallery.language')}
          <input type="text" name="language" value={filters.language ?? ''} size={6} />
        </label>
        <label>
          {t('gallery.country')}
          <input type="text" name="country" value={filters.country ?? ''} size={3} />
        </label>
        <label>
          {t('gallery.from')}
          <input type="date" name="from" value={day(filters.from)} />
        </label>
        <label>
          {t('gallery.to')}
          <input type="date" name="to" value={day(filters.to)} />
        </label>
        <label>
          {t('gallery.shape')}
          <select name="shape">
            <option value="">{t('gallery.any')}</option>
            {(['source', 'square', 'vertical'] as const).map((shape) => (
              <option value={shape} selected={filters.shape === shape}>
                {t(SHAPE_KEYS[shape]!)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('gallery.use')}
          <select name="use">
            {(['social', 'web', 'events', 'press'] as const).map((use) => (
              <option value={use} selected={filters.use === use}>
                {t(`gallery.use.${use}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{t('gallery.apply')}</button>
      </form>
      {props.error && <p class="error" role="alert">{props.error}</p>}
      <p class="help">{t('gallery.linksHelp')}</p>
      {items.length === 0 ? (
        <p>{t('gallery.empty')}</p>
      ) : (
        <form method="get" action="/staff/gallery/zip" id="zip-form">
        {filters.shape && <input type="hidden" name="shape" value={filters.shape} />}
        <input type="hidden" name="use" value={filters.use} />
        <button type="submit">{t('gallery.zip')}</button>
        <ul class="gallery">
          {items.map((item) => (
            <li class="clip" data-clip={item.id}>
              <img src={`/staff/gallery/${item.id}/poster/${posterShape}${useSuffix}`} alt={t('gallery.posterAlt', { title: isolate(item.title) })} loading="lazy" />
              <h2>
                <label class="pick">
                  <input type="checkbox" name="clip" value={item.id} /> <bdi>{item.title}</bdi>
                </label>
              </h2>
              <p class="help">
                {t('gallery.meta', { campaign: isolate(item.campaign.name), country: item.country, language: item.language, released: formatDateTime(ctx.lang, item.releasedAt) })}
              </p>
              {item.message && <p dir="auto">{item.message}</p>}
              <ul class="files">
                {item.files.map((file) => (
                  <li>
                    <a href={`/staff/gallery/${item.id}/files/${file.output}${useSuffix}`} data-output={file.output} download={file.filename}>
                      {fileLabel(ctx, file)}
                    </a>{' '}
                    <span class="help">{formatFileSize(ctx.lang, file.bytes)}</span>
                  </li>
                ))}
              </ul>
              <p class="help">
                <a href={`/verify?release=${item.id}`} data-verify={item.id}>
                  {t('gallery.verify')}
                </a>
              </p>
              {ctx.session?.data.role === 'admin' && (
                <p>
                  <a href={`/staff/review/${item.id}#withdraw`}>{t('gallery.withdraw')}</a>
                </p>
              )}
              <details class="post">
                <summary>{t('gallery.postText')}</summary>
                {Object.entries(item.postTexts).map(([language, text]) => (
                  <div>
                    <p class="help">{language}</p>
                    <pre class="secret" id={`post-${item.id}-${language}`} data-post-language={language} dir="auto">
                      {text}
                    </pre>
                    <button type="button" class="secondary" data-copy={`post-${item.id}-${language}`} data-copied={t('enrol.copied')} hidden>
                      {t('gallery.copyPost', { language })}
                    </button>
                  </div>
                ))}
              </details>
            </li>
          ))}
        </ul>
        </form>
      )}
    </Layout>
  );
}
