/**
 * The project's own description of a clip, as stored on the submission (`media`). The worker maps
 * ffprobe's JSON into it (worker/ffmpeg/media-info.ts); steps, services and pages read only this.
 * Stored as a free-form subdocument, so a new measurement (loudness, say) is one more optional field
 * here, with no schema change and no migration.
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
  /** Set by the loudness step (worker/steps/loudness.step.ts) once the clip has passed the limits. */
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
