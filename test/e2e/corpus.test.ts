import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Submission } from '../../shared/submissions/submission.model';
import { decodeSubtitleBytes } from '../../worker/subtitles/decode-text';
import { parseSubtitles, SubtitleParseError } from '../../worker/subtitles/subtitles';
import { ffprobeJson } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { ALLOWED_FORMAT_TAGS, ALLOWED_STREAM_TAGS, downloadOutput, runWorker, workerDeps } from '../helpers/worker-env';

/**
 * Every real-world file in ../shared/media (phones, cameras, browsers, screen recorders, broken files)
 * through the pipeline: each ends with a valid preview or a clear rejection — no crash, no stuck state,
 * no metadata left. Runs only where that folder exists; the project's own tests never need it.
 */
const MEDIA = join(__dirname, '..', '..', '..', 'shared', 'media');
const present = existsSync(MEDIA);
const files = present
  ? readdirSync(MEDIA, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(MEDIA, f)).isFile() && !/\.(md|tsv)$/.test(f)).sort()
  : [];
const SUBTITLE = /\.(srt|vtt|ass)$/i;
const videos = files.filter((f) => !SUBTITLE.test(f));
const subtitles = files.filter((f) => SUBTITLE.test(f));

(present ? describe : describe.skip)('the media corpus (../shared/media)', () => {
  let app: TestApp;
  const results: string[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
  });

  afterAll(async () => {
    // eslint-disable-next-line no-console
    console.log(`corpus results:\n${results.join('\n')}`);
    await app.close();
  });

  test.each(videos)('%s ends with a valid preview or a clear rejection', async (file) => {
    const response = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'Corpus', country: 'BY', language: 'en', title: file, consent: demoConsent('en') },
      [{ field: 'video', filename: file, content: readFileSync(join(MEDIA, file)) }],
    );
    if (response.status !== 202) {
      // Refused at upload: must be a specific problem, not a crash.
      expect(response.status).toBeLessThan(500);
      results.push(`${file}\trefused at upload\t${String(response.json.code)}`);
      return;
    }
    const id = String(response.json.id);
    const done: Submission = await runWorker(workerDeps(app), id);
    expect(['in_review', 'rejected']).toContain(done.status);
    if (done.status === 'rejected') {
      expect(done.rejection?.reason.length).toBeGreaterThan(20);
      results.push(`${file}\trejected\t${done.rejection?.code ?? ''}: ${done.rejection?.reason ?? ''}`);
      return;
    }
    const preview = await ffprobeJson(await downloadOutput(app.services, done, 'preview'));
    expect(preview.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(preview.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p' });
    expect(Object.keys(preview.format.tags ?? {}).filter((t) => !ALLOWED_FORMAT_TAGS.includes(t))).toEqual([]);
    for (const stream of preview.streams) expect(Object.keys(stream.tags ?? {}).filter((t) => !ALLOWED_STREAM_TAGS.includes(t))).toEqual([]);
    expect(preview.chapters).toEqual([]);
    const v = preview.streams.find((s) => s.codec_type === 'video')!;
    results.push(`${file}\tpreview\t${String(v.width)}x${String(v.height)} ${Number(preview.format.duration).toFixed(2)} s`);
  });

  test.each(subtitles)('%s is read, or refused with the line that is wrong', (file) => {
    const bytes = readFileSync(join(MEDIA, file));
    try {
      const cues = parseSubtitles(decodeSubtitleBytes(bytes, 'en').text);
      expect(cues.length).toBeGreaterThan(0);
      results.push(`${relative(MEDIA, join(MEDIA, file))}\tsubtitles\t${cues.length} cues`);
    } catch (error) {
      expect(error).toBeInstanceOf(SubtitleParseError);
      expect((error as Error).message).toMatch(/^line \d+: /);
      results.push(`${file}\tsubtitles refused\t${(error as Error).message}`);
    }
  });
});
