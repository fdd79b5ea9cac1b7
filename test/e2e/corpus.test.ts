import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { originalKey } from '../../shared/storage/keys';
import type { Submission } from '../../shared/submissions/submission.model';
import { parseDisplayMatrix } from '../../worker/ffmpeg/media-info';
import { decodeSubtitleBytes } from '../../shared/subtitles/decode-text';
import { parseSubtitles, SubtitleParseError } from '../../shared/subtitles/subtitles';
import { ffprobeJson } from '../helpers/fixtures';
import { applyDisplayMatrix, correlation, EIGHT_ORIENTATIONS, grayFrame, spread } from '../helpers/frames';
import { postMultipart } from '../helpers/multipart';
import { privacySweep, sourceTraces } from '../helpers/privacy-sweep';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { ALLOWED_FORMAT_TAGS, ALLOWED_STREAM_TAGS, downloadOutput, runWorker, workerDeps } from '../helpers/worker-env';

/**
 * Every real-world file in ../shared/media (phones, cameras, browsers, screen recorders, broken files)
 * through the pipeline, each against the outcome expected of it (MANIFEST.md says what each file is):
 * a preview — upright as its display matrix means, with no display matrix left, no metadata — or a
 * named rejection. A file without an expectation fails, so a new file gets one. Runs only where that
 * folder exists (SOLIDARITY_MEDIA_DIR may point elsewhere); the project's own tests never need it.
 */
const MEDIA = process.env.SOLIDARITY_MEDIA_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'media');
const present = existsSync(MEDIA);
const files = present
  ? readdirSync(MEDIA, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(MEDIA, f)).isFile() && !/\.(md|tsv)$/.test(f)).sort()
  : [];
const SUBTITLE = /\.(srt|vtt|ass)$/i;
const videos = files.filter((f) => !SUBTITLE.test(f));
const subtitles = files.filter((f) => SUBTITLE.test(f));

type Expected = { preview: { width: number; height: number } } | { rejected: string } | { refusedAtUpload: string };

/** What each corpus file must become: a preview of this size (upright), or this rejection. */
const EXPECTED: Record<string, Expected> = {
  '3gp/apple_sample_mpeg4_amrnb.3gp': { preview: { width: 176, height: 144 } },
  '3gp/phone_h263_amrnb_352x288.3gp': { preview: { width: 352, height: 288 } },
  'android/android601_h264_gps_0.17s.mp4': { preview: { width: 1280, height: 720 } },
  // Turned 90° by its matrix: shown portrait.
  'android/android_hevc_rot90_gps_mett_track.mp4': { preview: { width: 720, height: 1280 } },
  'android/android_slowmo_capture240fps.mp4': { preview: { width: 1280, height: 720 } },
  'android/brand3gp5_h264_rot90_gps_null_island.mp4': { preview: { width: 720, height: 1280 } },
  // The 1024×768 main track of a motion photo, turned 90° and without sound (item 1 of the hardening issue).
  'android/pixel_motionphoto_2_hevc_video_tracks.mp4': { preview: { width: 720, height: 960 } },
  'android/samsung_sef_slowmo.mp4': { preview: { width: 320, height: 240 } },
  'avi_mjpeg/camera_100_0306_mjpeg_pcm.AVI': { preview: { width: 320, height: 240 } },
  'avi_mjpeg/camera_mjpeg_pcmu8.mov': { preview: { width: 640, height: 480 } },
  'avi_mjpeg/canon_MVI_4823_mjpeg_pcm.AVI': { preview: { width: 640, height: 480 } },
  'camera/gopro_hero5_karma_gpmf_telemetry.mp4': { preview: { width: 854, height: 480 } },
  'camera/gopro_max_heromode_gpmf_gps.mp4': { preview: { width: 848, height: 480 } },
  // MV-HEVC spatial video: the base view.
  'iphone/apple_mvhevc_spatial_stereo_5frames.mov': { preview: { width: 720, height: 804 } },
  'iphone/coremedia_h264_gps_vfr_geese.mp4': { preview: { width: 1280, height: 720 } },
  'iphone/iphone6_h264_gps_rot90.mov': { preview: { width: 320, height: 568 } },
  'metadata/xmp_uuid_box_noaudio.mp4': { preview: { width: 960, height: 540 } },
  'mkv/h264_aac_chapters.mkv': { preview: { width: 320, height: 240 } },
  'mkv/h264_ac3_pgs.mkv': { preview: { width: 1080, height: 720 } },
  'mkv/h264_ac3_subrip.mkv': { preview: { width: 1080, height: 720 } },
  'mkv/h264_ac3_vobsub.mkv': { preview: { width: 1080, height: 720 } },
  'mkv/h264_ac3_webvtt.mkv': { preview: { width: 1080, height: 720 } },
  // Turned 90° and mirrored by its matrix.
  'rotation/display_matrix_rotate_and_reflect.mp4': { preview: { width: 720, height: 1080 } },
  'screen_recording/macos_kap_1740x892_h264_aac.mp4': { preview: { width: 1280, height: 656 } },
  'screen_recording/macos_quicktime_screenrec_tiny_vfr.mov': { preview: { width: 268, height: 156 } },
  'screen_recording/puppeteer_screencast_veed_watermark.mp4': { preview: { width: 1280, height: 720 } },
  // The first 100 KiB of a file whose header claims 1132 s.
  'truncated_corrupt/mkvmerge_first100KiB_of_1132s.mkv': { rejected: 'truncated' },
  'webcam_webm/chrome52_mediarecorder_vp8_opus.webm': { preview: { width: 640, height: 480 } },
  'webcam_webm/firefox53_mediarecorder_vp8_opus.webm': { preview: { width: 640, height: 480 } },
};

/**
 * How long a file's sound and picture last: the end of its last audio or video stream (a Matroska stream's
 * DURATION tag is its end). Not the container's duration, which a subtitle track running on lengthens.
 */
function playableSeconds(probe: Awaited<ReturnType<typeof ffprobeJson>>): number {
  const ends = probe.streams
    .filter((stream) => stream.codec_type === 'video' || stream.codec_type === 'audio')
    .map((stream) => {
      const tagged = /^(\d+):(\d+):([\d.]+)$/.exec(stream.tags?.DURATION ?? '');
      if (tagged) return Number(tagged[1]) * 3600 + Number(tagged[2]) * 60 + Number(tagged[3]);
      return Number(stream.start_time ?? 0) + Number(stream.duration);
    })
    .filter(Number.isFinite);
  return ends.length > 0 ? Math.max(...ends) : Number(probe.format.duration);
}

/**
 * What MANIFEST.md says of each subtitle file: how many cues ("· 78 cues." or, for ASS, "· 3 Dialogue."). Read
 * from the corpus's own manifest, so a file whose count is not written there fails.
 */
function manifestCueCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  const manifest = join(MEDIA, 'MANIFEST.md');
  if (!existsSync(manifest)) return counts;
  for (const line of readFileSync(manifest, 'utf8').split('\n')) {
    const match = /^\| `([^`]+)` \|.*· (\d+) (?:cues|Dialogue)\b/.exec(line);
    if (match) counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

/**
 * The subtitle files the parser refuses, and why (the line it names): ASS is not an upload format the parser
 * reads, and one description track has a cue longer than the 12 lines a caption may have. Every other file must
 * be read with exactly the cues MANIFEST.md counts.
 */
const SUBTITLES_REFUSED: Record<string, RegExp> = {
  'subtitles/ass/aegisub_simple_3lines.ass': /^line 1: expected a cue number or a timing/,
  'subtitles/vtt/elephantsdream.descriptions.en.vtt': /^line \d+: the cue is too long \(at most 12 lines of text\)/,
};

// Square thumbnails: all eight turns and mirrors of one have the same size, so each can be compared.
const THUMB = { width: 32, height: 32 };

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

  test('every expectation names a file of the corpus', () => {
    expect(Object.keys(EXPECTED).filter((file) => !videos.includes(file))).toEqual([]);
  });

  test.each(videos)('%s ends with the preview or the rejection expected of it', async (file) => {
    const expected = EXPECTED[file];
    if (!expected) throw new Error(`${file} has no expected outcome: add one to EXPECTED (see MANIFEST.md)`);
    const response = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'Corpus', country: 'BY', language: 'en', title: file, consent: demoConsent('en') },
      [{ field: 'video', filename: file, content: readFileSync(join(MEDIA, file)) }],
    );
    if (response.status !== 202) {
      results.push(`${file}\trefused at upload\t${String(response.json.code)}`);
      expect({ refusedAtUpload: response.json.code }).toEqual(expected);
      return;
    }
    const done: Submission = await runWorker(workerDeps(app), String(response.json.id));
    if (done.status === 'rejected') {
      results.push(`${file}\trejected\t${done.rejection?.code ?? ''}: ${done.rejection?.reason ?? ''}`);
      expect(done.rejection?.reason.length).toBeGreaterThan(20);
      expect({ rejected: done.rejection?.code }).toEqual(expected);
      return;
    }
    expect(done.status).toBe('in_review');
    // Every object made of it (preview, master, poster, captions) holds none of the file's maker, place, time
    // or name in its bytes, and only harmless tag values (test/helpers/privacy-sweep.ts); the raw upload is what was sent.
    const traces = await sourceTraces(join(MEDIA, file));
    traces.strings.push(basename(file, extname(file)));
    const id = done._id.toHexString();
    const sweep = await privacySweep(app.services.storage, id, traces, [originalKey(id)]);
    expect(sweep.findings).toEqual([]);
    expect(sweep.checked.length).toBeGreaterThanOrEqual(3);
    const previewPath = await downloadOutput(app.services, done, 'preview');
    const preview = await ffprobeJson(previewPath);
    expect(preview.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    const v = preview.streams.find((s) => s.codec_type === 'video')!;
    expect(v).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p' });
    expect(Object.keys(preview.format.tags ?? {}).filter((t) => !ALLOWED_FORMAT_TAGS.includes(t))).toEqual([]);
    for (const stream of preview.streams) expect(Object.keys(stream.tags ?? {}).filter((t) => !ALLOWED_STREAM_TAGS.includes(t))).toEqual([]);
    expect(preview.chapters).toEqual([]);
    // Upright: no display matrix for a player to apply again, and the size (so the orientation) expected.
    expect(v.side_data_list ?? []).toEqual([]);
    expect({ preview: { width: v.width, height: v.height } }).toEqual(expected);
    const orientation = await orientationCheck(file, (done.media as { video: { index: number } }).video.index, previewPath);
    const sourceSeconds = playableSeconds(await ffprobeJson(join(MEDIA, file)));
    const previewSeconds = Number(preview.format.duration);
    results.push(`${file}\tpreview\t${String(v.width)}x${String(v.height)} ${previewSeconds.toFixed(2)} s (source ${sourceSeconds.toFixed(2)} s)\t${orientation}\tswept ${sweep.checked.length} objects for ${traces.strings.length} traces`);
    // As long as the source's sound and picture, within 0.1 s (where the source says how long they are: a
    // browser's recording may not).
    if (Number.isFinite(sourceSeconds) && sourceSeconds > 0) {
      const seen = { file, preview: previewSeconds, source: sourceSeconds };
      expect({ ...seen, within: Math.abs(previewSeconds - sourceSeconds) <= 0.1 }).toEqual({ ...seen, within: true });
    }
  });

  /**
   * The preview's first picture against the original's, turned and mirrored in each of the eight ways:
   * the way its display matrix means must match best.
   */
  async function orientationCheck(file: string, stream: number, previewPath: string): Promise<string> {
    const original = await ffprobeJson(join(MEDIA, file));
    const sideData = (original.streams.find((s) => s.index === stream)?.side_data_list ?? []) as Array<{ side_data_type?: string; displaymatrix?: string }>;
    const text = sideData.find((d) => d.side_data_type === 'Display Matrix')?.displaymatrix;
    const matrix = (text ? parseDisplayMatrix(text) : null) ?? [1, 0, 0, 0, 1];
    let at = 0;
    let stored = await grayFrame(join(MEDIA, file), { autorotate: false, size: THUMB, stream });
    if (spread(stored) < 4) {
      // A blank first frame cannot tell one orientation from another: look half-way through instead.
      at = Number(original.format.duration) / 2;
      stored = await grayFrame(join(MEDIA, file), { autorotate: false, size: THUMB, stream, at });
      if (spread(stored) < 4) return 'orientation not checked: blank frames';
    }
    const shown = await grayFrame(previewPath, { autorotate: true, size: THUMB, at });
    const meant = correlation(shown, applyDisplayMatrix(stored, matrix));
    const others = EIGHT_ORIENTATIONS.map((m) => applyDisplayMatrix(stored, m)).filter((o) => !o.data.equals(applyDisplayMatrix(stored, matrix).data)).map((o) => correlation(shown, o));
    expect(meant).toBeGreaterThan(0.8);
    expect(meant).toBeGreaterThan(Math.max(...others));
    return `orientation r=${meant.toFixed(3)} (others ≤ ${Math.max(...others).toFixed(3)})${at ? ` at ${at.toFixed(1)} s` : ''}`;
  }

  test('every subtitle file has its cue count in MANIFEST.md, and every expected refusal names a file of the corpus', () => {
    const counts = manifestCueCounts();
    expect(subtitles.filter((file) => !counts.has(file))).toEqual([]);
    expect(Object.keys(SUBTITLES_REFUSED).filter((file) => !subtitles.includes(file))).toEqual([]);
  });

  test.each(subtitles)('%s is read with exactly the cues MANIFEST.md counts, or refused with the line that is wrong', (file) => {
    const bytes = readFileSync(join(MEDIA, file));
    const refusal = SUBTITLES_REFUSED[file];
    let cues: ReturnType<typeof parseSubtitles>;
    try {
      cues = parseSubtitles(decodeSubtitleBytes(bytes, 'en').text);
    } catch (error) {
      const message = (error as Error).message;
      results.push(`${file}\tsubtitles refused\t${message}`);
      expect(error).toBeInstanceOf(SubtitleParseError);
      if (!refusal) throw new Error(`${file} was refused (${message}), but MANIFEST.md counts ${String(manifestCueCounts().get(file))} cues in it`, { cause: error });
      expect(message).toMatch(refusal);
      return;
    }
    results.push(`${relative(MEDIA, join(MEDIA, file))}\tsubtitles\t${cues.length} cues`);
    expect({ file, refused: false }).toEqual({ file, refused: refusal !== undefined });
    expect({ file, cues: cues.length }).toEqual({ file, cues: manifestCueCounts().get(file) });
  });
});
