import type { StoredObject } from '../../shared/submissions/submission.model';

/**
 * The files of a release as the social teams see them: what each output is, and the name it is saved
 * under, which says nothing about the contributor: `solidarity-<campaign>-<id>-9x16-be.mp4`. Pure.
 */

export const GALLERY_SHAPES = ['source', 'square', 'vertical'] as const;
export type GalleryShape = (typeof GALLERY_SHAPES)[number];

export interface GalleryFile {
  output: string;
  kind: 'video' | 'poster' | 'captions';
  shape: GalleryShape | null;
  /** Caption language burned in (video) or of the sidecar (captions); null for a plain video or a poster. */
  language: string | null;
  format: string;
  bytes: number;
  filename: string;
}

const SHAPE_LABELS: Record<string, string> = { source: 'original-shape', square: '1x1', vertical: '9x16' };

/** The file name a release output is saved under. `output` is a release output name (release.step.ts). */
export function downloadFilename(campaignSlug: string, submissionId: string, output: string): string {
  const campaign = campaignSlug.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'campaign';
  const base = `solidarity-${campaign}-${submissionId}`;
  const captions = /^captions-([a-z0-9-]+)-(srt|vtt)$/.exec(output);
  if (captions) return `${base}-${captions[1]}.${captions[2]}`;
  const poster = /^poster-(source|square|vertical)$/.exec(output);
  if (poster) return `${base}-${SHAPE_LABELS[poster[1]!]}-poster.jpg`;
  const render = /^(source|square|vertical)(?:-([a-z0-9-]+))?$/.exec(output);
  if (render) return `${base}-${SHAPE_LABELS[render[1]!]}${render[2] ? `-${render[2]}` : ''}.mp4`;
  throw new Error(`not a release output: ${output}`);
}

/** The files of a release, described (optionally one shape's only), in a stable order. */
export function describeFiles(campaignSlug: string, id: string, outputs: Record<string, StoredObject>, shape?: GalleryShape): GalleryFile[] {
  const files: GalleryFile[] = [];
  for (const [output, object] of Object.entries(outputs)) {
    const captions = /^captions-([a-z0-9-]+)-(srt|vtt)$/.exec(output);
    const poster = /^poster-(source|square|vertical)$/.exec(output);
    const render = /^(source|square|vertical)(?:-([a-z0-9-]+))?$/.exec(output);
    const base = { output, bytes: object.bytes, filename: downloadFilename(campaignSlug, id, output) };
    if (captions) files.push({ ...base, kind: 'captions', shape: null, language: captions[1]!, format: captions[2]! });
    else if (poster) files.push({ ...base, kind: 'poster', shape: poster[1] as GalleryShape, language: null, format: 'jpg' });
    else if (render) files.push({ ...base, kind: 'video', shape: render[1] as GalleryShape, language: render[2] ?? null, format: 'mp4' });
  }
  const order = (f: GalleryFile) => `${f.kind === 'video' ? 0 : f.kind === 'poster' ? 1 : 2}-${GALLERY_SHAPES.indexOf(f.shape ?? 'source')}-${f.language ?? ''}-${f.format}`;
  return files.filter((f) => !shape || f.shape === null || f.shape === shape).sort((a, b) => order(a).localeCompare(order(b)));
}

