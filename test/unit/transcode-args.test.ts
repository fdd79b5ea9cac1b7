import { commandArgs } from '../../worker/ffmpeg/ffmpeg';
import type { MediaInfo, VideoInfo } from '../../worker/ffmpeg/media-info';
import { buildPacketCountArgs, buildProbeArgs } from '../../worker/steps/probe.step';
import { buildPosterFallbackArgs } from '../../worker/steps/poster.step';
import { buildTranscodeArgs, masterSize, orientationFilters, previewFps, previewSize } from '../../worker/steps/transcode.step';

const video: VideoInfo = {
  index: 0,
  codec: 'h264',
  width: 1920,
  height: 1080,
  displayWidth: 1920,
  displayHeight: 1080,
  rotation: 0,
  mirrored: false,
  displayMatrix: null,
  averageFps: 29.97,
  variableFrameRate: false,
  pixelFormat: 'yuv420p',
  bitDepth: 8,
  colorTransfer: 'bt709',
  colorPrimaries: 'bt709',
  hdr: null,
  dolbyVision: false,
  frameCount: 300,
};

const info: MediaInfo = {
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
  durationSeconds: 10,
  sizeBytes: 5_000_000,
  video,
  audio: { index: 1, codec: 'aac', sampleRate: 44100, channels: 1, loudness: { integrated: -23.4, truePeak: -15 } },
  streams: { total: 2, video: 1, audio: 1, subtitle: 0, data: 0, attachment: 0 },
};

const H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', '60', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'];
const MASTER_H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', '60', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'];
const AAC = ['-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2'];
const STRIP = ['-map_metadata', '-1', '-map_chapters', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-movflags', '+faststart'];
const POSTER = ['-map', '[poster]', '-frames:v', '1', '-update', '1', '-q:v', '3', '-fflags', '+bitexact', '-flags:v', '+bitexact'];
const INPUT = ['-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file', '-noautorotate', '-i', '/w/original'];
const AUDIO_FORMAT = 'aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo';

describe('buildTranscodeArgs', () => {
  test('when a 1080p clip with sound has no subtitles, then one decode makes the 1080p master, the 720p preview and the poster', () => {
    expect(commandArgs(buildTranscodeArgs(info, { inputPath: '/w/original', outDir: '/w/out', captionsAssPath: null, maxDurationSeconds: 600 }))).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-stats',
      '-filter_complex',
      '[0:0]fps=30,split=2[vmsrc][vpsrc];' +
        '[vmsrc]scale=1920:1080:out_range=tv,setsar=1,format=yuv420p[vm];' +
        '[vpsrc]scale=1280:720:out_range=tv,setsar=1,format=yuv420p,split=2[vp][vposter];' +
        '[vposter]select=isnan(prev_selected_t)*gte(t\\,1)*eq(pict_type\\,I)[poster];' +
        `[0:1]${AUDIO_FORMAT},volume=9.4dB,asplit=2[am][ap]`,
      ...INPUT,
      '-y',
      '-map', '[vm]', '-map', '[am]', ...MASTER_H264, ...AAC, ...STRIP, '-t', '600', '/w/out/master.mp4',
      '-map', '[vp]', '-map', '[ap]', ...H264, ...AAC, ...STRIP, '-t', '600', '/w/out/preview.mp4',
      ...POSTER, '/w/out/poster.jpg',
    ]);
  });

  test('when subtitles come with a portrait 10-bit HLG clip without sound, then it is turned, tone-mapped, captioned and given a silent track', () => {
    const hlg: MediaInfo = {
      ...info,
      audio: null,
      durationSeconds: 4,
      video: { ...video, codec: 'hevc', rotation: 90, displayWidth: 1080, displayHeight: 1920, hdr: 'hlg', bitDepth: 10, averageFps: 59.94 },
    };
    const args = commandArgs(buildTranscodeArgs(hlg, { inputPath: '/w/original', outDir: '/w/out', captionsAssPath: '/w/cap:tions.ass', maxDurationSeconds: 600 }));
    expect(args.slice(0, 7)).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-stats',
      '-filter_complex',
      '[0:0]transpose=clock,zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,' +
        'fps=30,split=2[vmsrc][vpsrc];' +
        '[vmsrc]scale=1080:1920:out_range=tv,setsar=1,format=yuv420p[vm];' +
        '[vpsrc]scale=720:1280:out_range=tv,setsar=1,format=yuv420p,split=3[vp][vc][vposter];' +
        '[vposter]select=isnan(prev_selected_t)*gte(t\\,1)*eq(pict_type\\,I)[poster];' +
        '[vc]ass=filename=/w/cap\\\\:tions.ass[vcap];' +
        `[1:a]atrim=duration=4,${AUDIO_FORMAT},asplit=3[am][ap][ac]`,
    ]);
    expect(args.slice(7)).toEqual([
      ...INPUT,
      // The silence is a second input: with a graph of one input, ffmpeg 5.1 would copy the display matrix to the preview.
      '-f', 'lavfi', '-i', 'anullsrc=channel_layout=stereo:sample_rate=48000',
      '-y',
      '-map', '[vm]', '-map', '[am]', ...MASTER_H264, ...AAC, ...STRIP, '-shortest', '-t', '600', '/w/out/master.mp4',
      '-map', '[vp]', '-map', '[ap]', ...H264, ...AAC, ...STRIP, '-shortest', '-t', '600', '/w/out/preview.mp4',
      '-map', '[vcap]', '-map', '[ac]', ...H264, ...AAC, ...STRIP, '-shortest', '-t', '600', '/w/out/preview-captioned.mp4',
      ...POSTER, '/w/out/poster.jpg',
    ]);
  });
});

describe('a protected clip\'s clean master', () => {
  const ULTRAFAST = ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', ...MASTER_H264.slice(6)];

  test('when it is made alone, then one decode makes the master at ultrafast CRF 16 and nothing else', () => {
    expect(commandArgs(buildTranscodeArgs(info, { inputPath: '/w/original', outDir: '/w/out', captionsAssPath: null, maxDurationSeconds: 600, masterOnly: true }))).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-stats',
      '-filter_complex', `[0:0]fps=30,scale=1920:1080:out_range=tv,setsar=1,format=yuv420p[vm];[0:1]${AUDIO_FORMAT},volume=9.4dB[am]`,
      ...INPUT,
      '-y',
      '-map', '[vm]', '-map', '[am]', ...ULTRAFAST, ...AAC, ...STRIP, '-t', '600', '/w/out/master.mp4',
    ]);
  });
});

describe('orientation, size and frame rate', () => {
  test.each([
    [0, null, []],
    [90, null, ['transpose=clock']],
    [180, null, ['hflip', 'vflip']],
    [270, null, ['transpose=cclock']],
    // A display matrix that turns and mirrors (front camera, ExoPlayer's rotate_and_reflect sample).
    [90, [0, 65536, 0, 65536, 0, 0, 0, 0, 1073741824], ['transpose=cclock_flip']],
    [270, [0, -65536, 0, -65536, 0, 0, 0, 0, 1073741824], ['transpose=clock_flip']],
    [180, [-65536, 0, 0, 0, 65536, 0, 0, 0, 1073741824], ['hflip']],
    [0, [65536, 0, 0, 0, -65536, 0, 0, 0, 1073741824], ['vflip']],
  ] as const)('when the turn is %i° with matrix %j, then the filters are %j', (rotation, matrix, filters) => {
    expect(orientationFilters({ rotation, displayMatrix: matrix ? [...matrix] : null })).toEqual(filters);
  });

  test.each([
    [1920, 1080, 1920, 1080],
    [1080, 1920, 1080, 1920],
    [3840, 2160, 1920, 1080],
    [2160, 3840, 1080, 1920],
    [1740, 892, 1740, 892],
    [2560, 1440, 1920, 1080],
    [176, 144, 176, 144],
    [1934, 2160, 1080, 1206],
  ])('when the picture is %i×%i, then the master is %i×%i (the source size up to 1080p, never up)', (w, h, mw, mh) => {
    expect(masterSize({ displayWidth: w, displayHeight: h })).toEqual({ width: mw, height: mh });
  });

  test.each([
    [1920, 1080, 1280, 720],
    [1080, 1920, 720, 1280],
    [3840, 2160, 1280, 720],
    [1740, 892, 1280, 656],
    [268, 156, 268, 156],
    [176, 144, 176, 144],
    [1934, 2160, 720, 804],
  ])('when the picture is %i×%i, then the preview is %i×%i (fits 1280×720 either way, even sides)', (w, h, pw, ph) => {
    expect(previewSize({ displayWidth: w, displayHeight: h })).toEqual({ width: pw, height: ph });
  });

  test('frame rates are kept between 10 and 30 per second', () => {
    expect([240, 59.94, 29.97, 25, 13.32, 2, null].map((fps) => previewFps({ averageFps: fps }))).toEqual([30, 30, 30, 25, 13, 10, 30]);
  });
});

test('probe arguments restrict formats and protocols and bound the probing', () => {
  expect(buildProbeArgs('/w/original')).toEqual([
    '-hide_banner', '-loglevel', 'error',
    '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file',
    '-probesize', '50000000', '-analyzeduration', '20000000',
    '-show_streams', '-show_format', '-of', 'json', '/w/original',
  ]);
});

test('the poster fallback reads the first frame of the preview', () => {
  expect(commandArgs(buildPosterFallbackArgs('/w/out/preview.mp4', '/w/out/poster.jpg'))).toEqual([
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-filter_complex', '[0:v:0]null[poster]',
    '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file', '-i', '/w/out/preview.mp4',
    '-y', ...POSTER, '/w/out/poster.jpg',
  ]);
});

test('the frame count demuxes one stream of the allow-listed formats', () => {
  expect(buildPacketCountArgs('/w/original', 2)).toEqual([
    '-hide_banner', '-loglevel', 'error',
    '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file',
    '-select_streams', '2', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'json', '/w/original',
  ]);
});
