import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSubtitleBytes, SubtitleEncodingError } from '../../shared/subtitles/decode-text';
import { parseSubtitles, SubtitleParseError, toAss, toSrt, toWebVtt, type Cue } from '../../shared/subtitles/subtitles';
import { MediaRejection } from './rejections';

export const SUBTITLE_FILES = { vtt: 'captions.vtt', srt: 'captions.srt', ass: 'captions.ass' } as const;

export interface PreparedSubtitles {
  cues: Cue[];
  encoding: string;
  vttPath: string;
  srtPath: string;
  /** Our own ASS file, sized to the preview, for the burn-in. */
  assPath: string;
}

/**
 * Decodes the contributor's subtitle file whatever its encoding, validates it, and writes clean UTF-8
 * WebVTT and SRT sidecars plus the ASS file for the burn-in — all with names this code chose.
 * A broken file rejects the submission with the line that is wrong: never silently dropped.
 */
export async function prepareSubtitles(
  bytes: Buffer,
  language: string,
  size: { width: number; height: number },
  workDir: string,
): Promise<PreparedSubtitles> {
  let cues: Cue[];
  let encoding: string;
  try {
    const decoded = decodeSubtitleBytes(bytes, language);
    encoding = decoded.encoding;
    cues = parseSubtitles(decoded.text);
  } catch (error) {
    if (error instanceof SubtitleParseError) {
      throw new MediaRejection('subtitles_invalid', `The subtitle file could not be read at ${error.message}. Please correct it and send the clip again.`);
    }
    if (error instanceof SubtitleEncodingError) throw new MediaRejection('subtitles_invalid', error.message);
    throw error;
  }
  const paths = {
    vttPath: join(workDir, SUBTITLE_FILES.vtt),
    srtPath: join(workDir, SUBTITLE_FILES.srt),
    assPath: join(workDir, SUBTITLE_FILES.ass),
  };
  await Promise.all([
    writeFile(paths.vttPath, toWebVtt(cues), 'utf8'),
    writeFile(paths.srtPath, toSrt(cues), 'utf8'),
    writeFile(paths.assPath, toAss(cues, size), 'utf8'),
  ]);
  return { cues, encoding, ...paths };
}
