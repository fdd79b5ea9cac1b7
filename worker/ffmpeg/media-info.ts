/**
 * The project's own description of a clip. ffprobe's JSON is mapped here, once; steps read only this.
 */

export interface VideoInfo {
  /** Index of the stream in the file (for `-map 0:N`). */
  index: number;
  codec: string;
  width: number;
  height: number;
  /** Size as shown, after the display matrix (a portrait phone clip is stored landscape and turned). */
  displayWidth: number;
  displayHeight: number;
  /** Turn to apply, clockwise, in degrees: 0, 90, 180 or 270 (other angles are rounded to these). */
  rotation: 0 | 90 | 180 | 270;
  /** The display matrix also mirrors the picture (front cameras, some editors). */
  mirrored: boolean;
  /** The raw display matrix (9 numbers, 16.16 fixed point), when there is one. */
  displayMatrix: number[] | null;
  averageFps: number | null;
  /** The nominal and the average frame rates differ: frames are not evenly spaced. */
  variableFrameRate: boolean;
  pixelFormat: string | null;
  bitDepth: number;
  colorTransfer: string | null;
  colorPrimaries: string | null;
  /** High dynamic range that must be tone-mapped to SDR for a normal screen. */
  hdr: 'hlg' | 'pq' | null;
  dolbyVision: boolean;
  frameCount: number | null;
}

/** EBU R128, measured on the track as the preview will carry it (48 kHz stereo), before any gain. */
export interface Loudness {
  /** Integrated loudness, LUFS; −70 (ebur128's absolute gate) for silence. */
  integrated: number;
  /** True peak, dBTP; null for digital silence. */
  truePeak: number | null;
}

export interface AudioInfo {
  index: number;
  codec: string;
  sampleRate: number | null;
  channels: number | null;
  /** Set by the loudness step (steps/loudness.step.ts) once the clip has passed the limits. */
  loudness?: Loudness;
}

export interface MediaInfo {
  /** ffprobe's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  durationSeconds: number | null;
  sizeBytes: number | null;
  video: VideoInfo | null;
  audio: AudioInfo | null;
  streams: { total: number; video: number; audio: number; subtitle: number; data: number; attachment: number };
}

interface ProbeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  bits_per_raw_sample?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  sample_rate?: string;
  channels?: number;
  color_transfer?: string;
  color_primaries?: string;
  disposition?: { default?: number; attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; displaymatrix?: string; rotation?: number; dv_profile?: number }>;
}

export interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; size?: string };
}

function number(value: string | number | undefined): number | null {
  if (value === undefined || value === 'N/A') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function rate(value: string | undefined): number | null {
  if (!value) return null;
  const [num, den] = value.split('/').map(Number);
  if (!num || !den) return null;
  return num / den;
}

/** "\n00000000:  0  65536  0\n00000001: ..." → the 9 numbers of the matrix. */
export function parseDisplayMatrix(text: string): number[] | null {
  const values = text
    .split('\n')
    .map((line) => line.replace(/^\s*[0-9a-f]+:/i, '').trim())
    .filter((line) => line !== '')
    .flatMap((line) => line.split(/\s+/).map(Number));
  return values.length === 9 && values.every(Number.isFinite) ? values : null;
}

/**
 * The turn to apply, as ffmpeg itself derives it (ffprobe's `rotation` is counter-clockwise, negative for
 * a clockwise turn), and whether the matrix mirrors (negative determinant).
 */
export function orientation(rotationTag: number | null, matrix: number[] | null): { rotation: VideoInfo['rotation']; mirrored: boolean } {
  const theta = rotationTag === null ? 0 : ((-Math.round(rotationTag) % 360) + 360) % 360;
  const quarter = (Math.round(theta / 90) * 90) % 360;
  const mirrored = matrix !== null && (matrix[0] ?? 0) * (matrix[4] ?? 0) - (matrix[1] ?? 0) * (matrix[3] ?? 0) < 0;
  return { rotation: quarter as VideoInfo['rotation'], mirrored };
}

function pickVideo(streams: ProbeStream[]): ProbeStream | undefined {
  const candidates = streams.filter((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const frames = (s: ProbeStream) => number(s.nb_frames) ?? (number(s.duration) ?? 0) * (rate(s.avg_frame_rate) ?? 0);
  // A motion photo has a real video track and a "top shot" track of a frame or two: take the one with most frames.
  return candidates.reduce<ProbeStream | undefined>((best, s) => (best === undefined || frames(s) > frames(best) ? s : best), undefined);
}

export function mapProbe(probe: ProbeOutput): MediaInfo {
  const streams = probe.streams ?? [];
  const count = (type: string) => streams.filter((s) => s.codec_type === type).length;
  const v = pickVideo(streams);
  const a = streams.find((s) => s.codec_type === 'audio' && s.disposition?.default === 1) ?? streams.find((s) => s.codec_type === 'audio');

  let video: VideoInfo | null = null;
  if (v && v.index !== undefined && v.width && v.height) {
    const matrixData = v.side_data_list?.find((d) => d.side_data_type === 'Display Matrix');
    const matrix = matrixData?.displaymatrix ? parseDisplayMatrix(matrixData.displaymatrix) : null;
    const rotationTag = number(matrixData?.rotation) ?? number(v.tags?.rotate ? -Number(v.tags.rotate) : undefined);
    const { rotation, mirrored } = orientation(rotationTag, matrix);
    const turned = rotation === 90 || rotation === 270;
    const transfer = v.color_transfer ?? null;
    const averageFps = rate(v.avg_frame_rate);
    const nominalFps = rate(v.r_frame_rate);
    const deepPixels = /(10|12)(le|be)$/.exec(v.pix_fmt ?? '');
    video = {
      index: v.index,
      codec: v.codec_name ?? 'unknown',
      width: v.width,
      height: v.height,
      displayWidth: turned ? v.height : v.width,
      displayHeight: turned ? v.width : v.height,
      rotation,
      mirrored,
      displayMatrix: matrix,
      averageFps,
      variableFrameRate: averageFps !== null && nominalFps !== null && Math.abs(averageFps - nominalFps) / nominalFps > 0.01,
      pixelFormat: v.pix_fmt ?? null,
      bitDepth: number(v.bits_per_raw_sample) ?? (deepPixels ? Number(deepPixels[1]) : 8),
      colorTransfer: transfer,
      colorPrimaries: v.color_primaries ?? null,
      hdr: transfer === 'arib-std-b67' ? 'hlg' : transfer === 'smpte2084' ? 'pq' : null,
      dolbyVision: (v.side_data_list ?? []).some((d) => (d.side_data_type ?? '').includes('DOVI')),
      frameCount: number(v.nb_frames),
    };
  }

  return {
    container: probe.format?.format_name ?? 'unknown',
    durationSeconds: number(probe.format?.duration),
    sizeBytes: number(probe.format?.size),
    video,
    audio:
      a && a.index !== undefined
        ? { index: a.index, codec: a.codec_name ?? 'unknown', sampleRate: number(a.sample_rate), channels: a.channels ?? null }
        : null,
    streams: {
      total: streams.length,
      video: count('video'),
      audio: count('audio'),
      subtitle: count('subtitle'),
      data: count('data'),
      attachment: count('attachment'),
    },
  };
}
