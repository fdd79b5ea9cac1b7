import { escapeFilterPath } from '../../worker/ffmpeg/filter-escape';
import { mapProbe, orientation, parseDisplayMatrix } from '../../worker/ffmpeg/media-info';
import { outcomeOfError } from '../../worker/handlers/process-submission.handler';
import { FfmpegError } from '../../worker/ffmpeg/ffmpeg';
import { checkMediaLimits } from '../../worker/steps/probe.step';
import { MediaRejection } from '../../worker/steps/rejections';
import { loadConfig } from '../../shared/config';

const MATRIX = '\n00000000:            0       65536           0\n00000001:        65536           0           0\n00000002:            0           0  1073741824\n';

describe('mapProbe', () => {
  const probe = {
    streams: [
      { index: 0, codec_type: 'data', codec_name: 'bin_data' },
      { index: 1, codec_type: 'video', codec_name: 'hevc', width: 2048, height: 1536, avg_frame_rate: '6000/2801', r_frame_rate: '6000/2801', nb_frames: '1', disposition: { default: 1 } },
      {
        index: 2, codec_type: 'video', codec_name: 'hevc', width: 1920, height: 1080, pix_fmt: 'yuv420p10le', color_transfer: 'arib-std-b67',
        avg_frame_rate: '580000/21007', r_frame_rate: '120/1', nb_frames: '58', disposition: { default: 1 },
        side_data_list: [{ side_data_type: 'Display Matrix', displaymatrix: MATRIX, rotation: -90 }],
      },
      { index: 3, codec_type: 'audio', codec_name: 'aac', sample_rate: '48000', channels: 2, disposition: { default: 1 } },
    ],
    format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '2.100700', size: '3487735' },
  };

  test('when a phone clip has a data track first, two video tracks and a display matrix, then MediaInfo picks the real video and reads its orientation', () => {
    const info = mapProbe(probe);
    expect(info.video).toMatchObject({
      index: 2, width: 1920, height: 1080, displayWidth: 1080, displayHeight: 1920, rotation: 90, mirrored: true,
      hdr: 'hlg', bitDepth: 10, variableFrameRate: true, frameCount: 58,
    });
    expect(info.audio).toEqual({ index: 3, codec: 'aac', sampleRate: 48000, channels: 2 });
    expect(info.streams).toEqual({ total: 4, video: 2, audio: 1, subtitle: 0, data: 1, attachment: 0 });
    expect(info.durationSeconds).toBeCloseTo(2.1007);
  });

  test('when ffprobe finds nothing, then there is no video and no audio', () => {
    expect(mapProbe({})).toMatchObject({ video: null, audio: null, durationSeconds: null, streams: { total: 0 } });
  });

  test('display matrices: parsed, turned clockwise, mirrored when the determinant is negative', () => {
    expect(parseDisplayMatrix(MATRIX)).toEqual([0, 65536, 0, 65536, 0, 0, 0, 0, 1073741824]);
    expect(orientation(-90, null)).toEqual({ rotation: 90, mirrored: false });
    expect(orientation(90, null)).toEqual({ rotation: 270, mirrored: false });
    expect(orientation(180, null)).toEqual({ rotation: 180, mirrored: false });
    expect(orientation(-90, [0, 65536, 0, 65536, 0, 0, 0, 0, 1])).toEqual({ rotation: 90, mirrored: true });
  });
});

describe('checkMediaLimits', () => {
  const limits = loadConfig({}).media;
  const base = mapProbe({
    streams: [{ index: 0, codec_type: 'video', codec_name: 'h264', width: 1280, height: 720, avg_frame_rate: '30/1', r_frame_rate: '30/1' }],
    format: { format_name: 'mov', duration: '20', size: '4000000' },
  });

  test.each([
    ['audio only', { ...base, video: null, audio: { index: 0, codec: 'aac', sampleRate: 48000, channels: 2 } }, 'audio_only'],
    ['no streams', { ...base, video: null, audio: null }, 'no_video_stream'],
    ['an hour long', { ...base, durationSeconds: 3600, sizeBytes: 900_000_000 }, 'too_long'],
    ['10 hours declared in 20 kB', { ...base, durationSeconds: 36_000, sizeBytes: 20_000 }, 'truncated'],
    ['8K', { ...base, video: { ...base.video!, width: 7680, height: 4320 } }, 'resolution_too_large'],
    ['1000 fps', { ...base, video: { ...base.video!, averageFps: 1000 } }, 'frame_rate_too_high'],
    ['40 tracks', { ...base, streams: { ...base.streams, total: 40 } }, 'too_many_streams'],
  ])('when the clip is %s, then it is refused as %s before any encode', (_what, info, code) => {
    expect(checkMediaLimits(info, limits)?.code).toBe(code);
  });

  test('when the clip is ordinary, then it passes', () => {
    expect(checkMediaLimits(base, limits)).toBeNull();
  });
});

describe('outcomeOfError', () => {
  const job = { attempt: 1, maxAttempts: 5 };
  test('a rejection is final, a damaged file is a rejection, a shutdown hands back, other errors retry until the last attempt', () => {
    expect(outcomeOfError(new MediaRejection('too_long', 'x'), job, null).kind).toBe('rejected');
    expect(outcomeOfError(new FfmpegError('failed', 'exit 1', ''), job, null)).toMatchObject({ kind: 'rejected', code: 'corrupt' });
    expect(outcomeOfError(new FfmpegError('timeout', 'slow', ''), job, null)).toMatchObject({ kind: 'rejected', code: 'processing_timeout' });
    expect(outcomeOfError(new FfmpegError('aborted', 'stop', ''), job, null).kind).toBe('handed-back');
    expect(outcomeOfError(new Error('S3 down'), job, null).kind).toBe('retry');
    expect(outcomeOfError(new Error('S3 down'), { attempt: 5, maxAttempts: 5 }, null).kind).toBe('failed');
  });
});

describe('escapeFilterPath', () => {
  test('quotes both levels: the option value and the filter graph', () => {
    expect(escapeFilterPath('/tmp/job-1/captions.ass')).toBe('/tmp/job-1/captions.ass');
    expect(escapeFilterPath("/tmp/a:b")).toBe('/tmp/a\\\\:b');
    expect(escapeFilterPath("/tmp/it's")).toBe("/tmp/it\\\\\\'s");
    expect(escapeFilterPath('/tmp/x,y;z[1]')).toBe('/tmp/x\\,y\\;z\\[1\\]');
    expect(escapeFilterPath('C:\\dir')).toBe('C\\\\:\\\\\\\\dir');
  });
});
