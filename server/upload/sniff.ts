import { AppError } from '../../shared/errors';

/**
 * Content checks on the first bytes of an upload, before anything reaches S3. The client's filename and
 * Content-Type are never trusted (nor stored); what the bytes say is.
 */

export const SNIFF_BYTES = 4096;

export type Container = 'mp4' | 'matroska' | 'avi' | 'mpegts';

export interface SniffedVideo {
  container: Container;
  contentType: string;
}

// ISO BMFF / QuickTime top-level boxes a phone or camera file may start with.
const QUICKTIME_FIRST_BOXES = new Set(['ftyp', 'moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/** The allow-list of video containers: MP4/MOV/3GP, Matroska/WebM, AVI, MPEG-TS (and camcorder M2TS). */
export function sniffVideoContainer(head: Buffer): SniffedVideo | null {
  if (head.length >= 8 && QUICKTIME_FIRST_BOXES.has(head.toString('latin1', 4, 8))) {
    const boxSize = head.readUInt32BE(0);
    // 0 = "to end of file", 1 = 64-bit size follows; otherwise a box is at least its 8-byte header.
    if (boxSize === 0 || boxSize === 1 || boxSize >= 8) return { container: 'mp4', contentType: 'video/mp4' };
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) {
    return { container: 'matroska', contentType: 'video/x-matroska' };
  }
  if (head.length >= 12 && head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'AVI ') {
    return { container: 'avi', contentType: 'video/x-msvideo' };
  }
  if (isTransportStream(head, 0, 188) || isTransportStream(head, 4, 192)) {
    return { container: 'mpegts', contentType: 'video/mp2t' };
  }
  return null;
}

/** MPEG-TS sync bytes (0x47) at three packet boundaries in a row; M2TS packets carry a 4-byte prefix. */
function isTransportStream(head: Buffer, offset: number, packet: number): boolean {
  for (let i = 0; i < 3; i += 1) {
    const at = offset + i * packet;
    if (at >= head.length || head[at] !== 0x47) return false;
  }
  return true;
}

export function requireVideoContainer(head: Buffer): SniffedVideo {
  const sniffed = sniffVideoContainer(head);
  if (!sniffed) {
    throw new AppError(
      'unsupported_file_type',
      415,
      'This file does not look like a video. Please send the clip as MP4, MOV, 3GP, WebM, MKV, AVI or MPEG-TS.',
    );
  }
  return sniffed;
}

/**
 * Subtitle files are text (SRT or WebVTT, any encoding: the worker decodes and validates them).
 * Here we only refuse what is clearly binary, so a video sent as subtitles gets a clear answer.
 */
export function requireSubtitleText(head: Buffer): { contentType: string } {
  const utf16 = head.length >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
  if (head.length === 0 || (!utf16 && head.includes(0)) || sniffVideoContainer(head)) {
    throw new AppError('unsupported_subtitle_type', 415, 'The subtitle file must be a text file in SRT or WebVTT format.');
  }
  return { contentType: 'application/octet-stream' };
}
