import { stripXmlForbidden } from '../../shared/text/hostile-text';
import type { FeedToken } from '../../shared/models/distribution.model';
import type { ReleaseUse } from '../../shared/submissions/consent-scopes';
import type { ServerDeps } from '../deps';
import { listGallery, type GalleryItem } from './gallery.service';

/**
 * A campaign's releases as a JSON Feed 1.1 and as Atom, for a team's tools. Only `released` clips agreed
 * for the feed's use: a withdrawn clip is gone from the next read. Attachments point at this server
 * (`…/files/<id>/<output>`), which mints a fresh short-lived link on each request, so a feed read hours
 * ago still leads to a working download — and to nothing once the clip is withdrawn.
 */

export const FEED_ITEMS = 100;

export async function feedItems(deps: Pick<ServerDeps, 'db'>, feed: FeedToken): Promise<GalleryItem[]> {
  const { items } = await listGallery(deps, { campaigns: [feed.campaign] }, { campaign: feed.campaign, use: feed.use as ReleaseUse }, { limit: FEED_ITEMS });
  return items;
}

const MIME: Record<string, string> = { mp4: 'video/mp4', jpg: 'image/jpeg', srt: 'application/x-subrip', vtt: 'text/vtt' };

export function jsonFeed(items: GalleryItem[], feed: FeedToken, base: string): object {
  return {
    version: 'https://jsonfeed.org/version/1.1',
    title: `Released clips: ${feed.campaign}`,
    feed_url: `${base}.json`,
    items: items.map((item) => ({
      id: item.id,
      title: item.title,
      content_text: item.postTexts[item.language] ?? Object.values(item.postTexts)[0] ?? item.title,
      date_published: item.releasedAt.toISOString(),
      language: item.language,
      tags: [item.country, ...item.captionLanguages.map((l) => `captions:${l}`)],
      _solidarity: { country: item.country, captionLanguages: item.captionLanguages, uses: item.uses, postTexts: item.postTexts, verifyUrl: verifyUrl(base, item.id) },
      attachments: item.files.map((file) => ({ url: `${base}/files/${item.id}/${file.output}`, mime_type: MIME[file.format] ?? 'application/octet-stream', size_in_bytes: file.bytes, title: file.filename })),
    })),
  };
}

/** The public verification page of a release (/verify), on the feed's own origin: where anyone checks a copy. */
function verifyUrl(base: string, id: string): string {
  return `${new URL(base).origin}/verify?release=${id}`;
}

/** Text for XML: the characters XML cannot carry dropped (text stored before they were stripped at input), the rest escaped. */
function xml(text: string): string {
  return stripXmlForbidden(text).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export function atomFeed(items: GalleryItem[], feed: FeedToken, base: string, now: Date): string {
  const updated = (items[0]?.releasedAt ?? now).toISOString();
  const entries = items.map((item) =>
    [
      '  <entry>',
      `    <id>urn:solidarity-clips:${item.id}</id>`,
      `    <title>${xml(item.title)}</title>`,
      `    <updated>${item.releasedAt.toISOString()}</updated>`,
      `    <content type="text">${xml(item.postTexts[item.language] ?? Object.values(item.postTexts)[0] ?? item.title)}</content>`,
      `    <link rel="related" href="${xml(verifyUrl(base, item.id))}" title="Verify a copy"/>`,
      ...item.files.map((file) => `    <link rel="enclosure" href="${xml(`${base}/files/${item.id}/${file.output}`)}" type="${MIME[file.format] ?? 'application/octet-stream'}" length="${file.bytes}" title="${xml(file.filename)}"/>`),
      '  </entry>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>urn:solidarity-clips:feed:${feed._id.toHexString()}</id>`,
    `  <title>${xml(`Released clips: ${feed.campaign}`)}</title>`,
    `  <updated>${updated}</updated>`,
    `  <link rel="self" href="${xml(`${base}.atom`)}"/>`,
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}
