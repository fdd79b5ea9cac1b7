import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { escapeFilterPath } from '../ffmpeg/filter-escape';
import { FfmpegError, readRawFrames, runFfmpeg, type FfmpegCommand, type RunLimits } from '../ffmpeg/ffmpeg';
import { AUDIO_FORMAT, loudnessFilters, parseLoudnessSummary } from './loudness.step';
import { inputHardeningArgs } from './probe.step';
import type { MaskStyle } from '../../shared/protection/protection';
import { aacArgs, burnInCaptionsFilter, h264Args, MASTER_ENCODER, posterArgs, PREVIEW_ENCODER, strippedMp4Args, type EncoderSettings } from './transcode.step';

/**
 * Identity protection (shared/protection/protection.ts), drawn from the clean master: the master is already
 * upright, constant-rate, SDR and loudness-normalised, so detection and masking see the same frames at the same
 * times (a VFR source was made constant-rate by the master). One decode of the master makes the protected
 * review preview, its captioned copy and the poster (the `review` part), the protected master (the `master` part),
 * or all of them; nothing unprotected is made by it.
 */

export interface Size {
  width: number;
  height: number;
}

export const PROTECTED_FILES = {
  protectedMaster: 'protected-master.mp4',
  preview: 'preview.mp4',
  captionedPreview: 'preview-captioned.mp4',
  poster: 'poster.jpg',
} as const;

/**
 * The voice's pitch factor, drawn per clip from a cryptographic source: 0.78–0.85 (lower) or 1.18–1.25
 * (higher), never near 1 where a voice stays recognisable. It lives in the worker's memory for one render: it is
 * never stored, logged or put in an error message (redactFactor), so nobody can read it back to undo the shift;
 * later renders reuse the already disguised sound of the protected master.
 */
export function drawVoiceFactor(random: (min: number, max: number) => number = randomInt): number {
  const step = random(0, 1400); // 1/10 000ths within the two bands, 700 each
  return step < 700 ? 0.78 + step / 10_000 : 1.18 + (step - 700) / 10_000;
}

/** The disguise: rumble and hiss out (they carry room and phone), pitch shifted with formants, duration kept. */
export function voiceFilters(factor: number): string[] {
  return ['highpass=f=100', `rubberband=pitch=${factor.toFixed(4)}:pitchq=quality:formant=shifted`, 'lowpass=f=6000', AUDIO_FORMAT];
}

/** An error from a run that had the factor on its command line, with the factor taken out of its text. */
export function redactFactor(error: unknown, factor: number): unknown {
  if (!(error instanceof Error)) return error;
  const secret = factor.toFixed(4);
  if (!error.message.includes(secret) && !(error instanceof FfmpegError && error.stderrTail.includes(secret))) return error;
  const clean = (text: string) => text.split(secret).join('…');
  return error instanceof FfmpegError ? new FfmpegError(error.kind, clean(error.message), clean(error.stderrTail)) : new Error(clean(error.message));
}

/**
 * The disguise, done once: the master's sound through the voice filters into float PCM in Matroska (a format the inputs' whitelist takes) in the job's folder,
 * measured on the way (ebur128), so the render only sets its loudness again (and runs no pitch shift of its own).
 */
export function buildDisguiseArgs(masterPath: string, factor: number, outPath: string): FfmpegCommand {
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'],
    inputs: [{ args: inputHardeningArgs(), path: masterPath }],
    outputs: [{ args: ['-map', '0:a:0', '-af', [...voiceFilters(factor), 'ebur128=peak=true:framelog=verbose'].join(','), '-c:a', 'pcm_f32le', '-f', 'matroska'], path: outPath }],
  };
}

/** The disguised sound of a first render: a file of the job's and the filters that set its loudness to the target. */
export interface DisguisedSound {
  path: string;
  filters: string[];
}

export async function disguiseVoice(masterPath: string, factor: number, outPath: string, limits: RunLimits, signal?: AbortSignal): Promise<DisguisedSound> {
  try {
    const log = await runFfmpeg(buildDisguiseArgs(masterPath, factor, outPath), limits, { signal });
    return { path: outPath, filters: loudnessFilters(parseLoudnessSummary(log)) };
  } catch (error) {
    throw redactFactor(error, factor);
  }
}

/** The frames the detector reads: every `every`-th frame of the master, scaled to `size`, as raw RGB. */
export function buildDetectionFramesArgs(masterPath: string, every: number, size: Size): FfmpegCommand {
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-an', '-sn', '-dn'],
    inputs: [{ args: inputHardeningArgs(), path: masterPath }],
    outputs: [
      {
        args: [
          '-map', '0:v:0',
          '-vf', `select=not(mod(n\\,${every})),scale=${size.width}:${size.height}:flags=bilinear,format=rgb24`,
          // One frame out for each selected frame in: no duplicates, no drops (their index gives their time).
          '-fps_mode', 'passthrough',
          '-f', 'rawvideo',
        ],
        path: 'pipe:1',
      },
    ],
  };
}

/** Reads the selected frames of the master and hands each to `onFrame` with its time in the master's picture. */
export async function readDetectionFrames(
  masterPath: string,
  options: { fps: number; every: number; size: Size },
  limits: RunLimits,
  onFrame: (frame: Buffer, t: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  const bytes = options.size.width * options.size.height * 3;
  return readRawFrames(buildDetectionFramesArgs(masterPath, options.every, options.size), bytes, limits, (frame, index) => onFrame(frame, (index * options.every) / options.fps), { signal });
}

/** What to draw over the picture: faces under boxes moved by a sendcmd script, or the campaign's card. */
export type PictureProtection =
  | { kind: 'faces'; scriptPath: string; slots: number; style?: MaskStyle }
  | { kind: 'card'; colour: string; imagePath: string | null }
  | { kind: 'none' };

/**
 * What one protected render makes: `review` (preview, captioned preview, poster: what moderators need first),
 * `master` (the protected master every release render starts from), or `all`.
 */
export type ProtectParts = 'all' | 'review' | 'master';

/** The files a render of `parts` makes. */
export function protectedFilesOf(parts: ProtectParts, captioned: boolean): Array<keyof typeof PROTECTED_FILES> {
  const review: Array<keyof typeof PROTECTED_FILES> = captioned ? ['preview', 'captionedPreview', 'poster'] : ['preview', 'poster'];
  if (parts === 'master') return ['protectedMaster'];
  return parts === 'review' ? review : ['protectedMaster', ...review];
}

export interface ProtectPlan {
  /** The clean, unprotected master: the picture (and the sound, unless `audioFromPath`). */
  masterPath: string;
  /** An earlier protected render (its preview or protected master), whose already disguised sound is reused. */
  audioFromPath: string | null;
  /** Default `all`. */
  parts?: ProtectParts;
  outDir: string;
  master: Size;
  preview: Size;
  fps: number;
  posterTime: number;
  picture: PictureProtection;
  /** Filters for the sound taken (from `audioFromPath`, or the master): a first render's loudness (disguiseVoice); null keeps it as it is. */
  voice: string[] | null;
  captionsAssPath: string | null;
  maxDurationSeconds: number;
  encoder?: EncoderSettings;
}

/** The drawbox slots, parked off the frame until the script moves them (w=0 would mean the full width). */
export function faceSlotFilters(scriptPath: string, slots: number, colour = 'black'): string[] {
  const boxes = Array.from({ length: slots }, (_, slot) => `drawbox@m${slot}=x=-16:y=-16:w=1:h=1:color=${colour}:t=fill`);
  return [`sendcmd=f=${escapeFilterPath(scriptPath)}`, ...boxes];
}

/** The side of a pixelation block: a twelfth of the picture's shorter side (90 px at 1080p), so a face is a few blocks. */
export function pixelBlock(size: Size): number {
  return Math.max(8, Math.round(Math.min(size.width, size.height) / 12));
}

/**
 * Strong pixelation under the masks: the picture averaged into big blocks (pixelBlock) is laid over the clean one
 * through a matte of the same moving boxes (white boxes on black, made hard 0/255), so outside the boxes nothing
 * changes. Returns the graph's lines from `[input]` to `[output]`.
 */
export function pixelateGraph(input: string, output: string, size: Size, scriptPath: string, slots: number): string[] {
  const block = pixelBlock(size);
  const across = Math.ceil(size.width / block);
  const down = Math.ceil(size.height / block);
  return [
    `${input}split=3[pxclean][pxsrc][pxmattesrc]`,
    `[pxsrc]scale=${across}:${down}:flags=area,scale=${size.width}:${size.height}:flags=neighbor[pxblocks]`,
    `[pxmattesrc]drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill,${faceSlotFilters(scriptPath, slots, 'white').join(',')},format=gray,lut=c0='if(gt(val,127),255,0)'[pxmatte]`,
    '[pxblocks][pxmatte]alphamerge[pxcover]',
    `[pxclean][pxcover]overlay=0:0${output}`,
  ];
}

/**
 * The campaign's card in place of the picture: the frame filled with the campaign's colour (frame by frame, so
 * the timing is the master's), and its card image fitted in the middle when it has one (input 2).
 */
export function cardFilters(colour: string, size: Size, hasImage: boolean, imageInput: number): { chain: string[]; extra: string[] } {
  const fill = `drawbox=x=0:y=0:w=iw:h=ih:color=${colour.replace('#', '0x')}:t=fill`;
  if (!hasImage) return { chain: [fill], extra: [] };
  const inner = { width: Math.round(size.width * 0.8), height: Math.round(size.height * 0.8) };
  return {
    chain: [fill],
    extra: [`[${imageInput}:v]scale=${inner.width}:${inner.height}:force_original_aspect_ratio=decrease,format=rgba[card]`],
  };
}

export function buildProtectArgs(plan: ProtectPlan): FfmpegCommand {
  const { master, preview } = plan;
  const captioned = plan.captionsAssPath !== null;
  const audioInput = plan.audioFromPath ? 1 : 0;
  const imageInput = plan.audioFromPath ? 2 : 1;
  const graph: string[] = [];
  let picture: string[];
  let overlayCard = false;
  let pixelate = false;
  switch (plan.picture.kind) {
    case 'faces':
      pixelate = plan.picture.style === 'pixelate';
      picture = pixelate ? [] : faceSlotFilters(plan.picture.scriptPath, plan.picture.slots);
      break;
    case 'card': {
      const card = cardFilters(plan.picture.colour, master, plan.picture.imagePath !== null, imageInput);
      picture = card.chain;
      graph.push(...card.extra);
      overlayCard = plan.picture.imagePath !== null;
      break;
    }
    case 'none':
      picture = [];
  }
  const parts = plan.parts ?? 'all';
  const wantMaster = parts !== 'review';
  const wantReview = parts !== 'master';
  // The protected picture goes to the master's encoder and/or the review copies: split only when both are made.
  const pictureOut = wantMaster && wantReview ? 'split=2[vm][vpsrc]' : wantMaster ? 'null[vm]' : 'null[vpsrc]';
  const protectedChain = [`scale=${master.width}:${master.height}`, 'setsar=1', ...picture].join(',');
  if (overlayCard) {
    graph.push(`[0:v:0]${protectedChain}[base]`, `[base][card]overlay=(W-w)/2:(H-h)/2:eof_action=repeat,format=yuv420p,${pictureOut}`);
  } else if (pixelate && plan.picture.kind === 'faces') {
    graph.push(...pixelateGraph(`[0:v:0]${protectedChain},`, '[pixelated]', master, plan.picture.scriptPath, plan.picture.slots));
    graph.push(`[pixelated]format=yuv420p,${pictureOut}`);
  } else {
    graph.push(`[0:v:0]${protectedChain},format=yuv420p,${pictureOut}`);
  }
  const audioLabels: string[] = [];
  if (wantMaster) audioLabels.push('[am]');
  if (wantReview) {
    const copies = captioned ? 3 : 2;
    const videoLabels = captioned ? '[vp][vc][vposter]' : '[vp][vposter]';
    graph.push(`[vpsrc]scale=${preview.width}:${preview.height},setsar=1,format=yuv420p,split=${copies}${videoLabels}`);
    graph.push(`[vposter]select=isnan(prev_selected_t)*gte(t\\,${plan.posterTime})*eq(pict_type\\,I)[poster]`);
    if (captioned && plan.captionsAssPath) graph.push(`[vc]${burnInCaptionsFilter(plan.captionsAssPath)}[vcap]`);
    audioLabels.push(...(captioned ? ['[ap]', '[ac]'] : ['[ap]']));
  }
  const audioOut = audioLabels.length > 1 ? `asplit=${audioLabels.length}` : 'anull';
  graph.push(`[${audioInput}:a:0]${[...(plan.voice ?? [AUDIO_FORMAT]), audioOut].join(',')}${audioLabels.join('')}`);

  const mp4 = (videoLabel: string, audioLabel: string, settings: EncoderSettings) => [
    '-map', videoLabel,
    '-map', audioLabel,
    ...h264Args(settings, plan.fps),
    ...aacArgs(),
    ...strippedMp4Args(),
    '-t', String(plan.maxDurationSeconds),
  ];
  const outputs: FfmpegCommand['outputs'] = [];
  if (wantMaster) outputs.push({ args: mp4('[vm]', '[am]', MASTER_ENCODER), path: join(plan.outDir, PROTECTED_FILES.protectedMaster) });
  if (wantReview) {
    outputs.push({ args: mp4('[vp]', '[ap]', plan.encoder ?? PREVIEW_ENCODER), path: join(plan.outDir, PROTECTED_FILES.preview) });
    if (captioned) outputs.push({ args: mp4('[vcap]', '[ac]', plan.encoder ?? PREVIEW_ENCODER), path: join(plan.outDir, PROTECTED_FILES.captionedPreview) });
    outputs.push({ args: posterArgs(), path: join(plan.outDir, PROTECTED_FILES.poster) });
  }

  const inputs = [{ args: inputHardeningArgs(), path: plan.masterPath }];
  if (plan.audioFromPath) inputs.push({ args: inputHardeningArgs(), path: plan.audioFromPath });
  // The card image is the campaign's own checked PNG/JPEG/WebP (never a contributor's file).
  if (plan.picture.kind === 'card' && plan.picture.imagePath) inputs.push({ args: ['-protocol_whitelist', 'file'], path: plan.picture.imagePath });
  return {
    globalArgs: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex', graph.join(';')],
    inputs,
    outputs,
  };
}

/** The protected render; an error never carries the voice factor (it is redacted by the caller's factor). */
export async function renderProtected(
  plan: ProtectPlan,
  limits: RunLimits,
  run: { durationSeconds?: number | null; onProgress?: (fraction: number) => void; signal?: AbortSignal; factor?: number } = {},
): Promise<void> {
  try {
    await runFfmpeg(buildProtectArgs(plan), limits, run);
  } catch (error) {
    throw run.factor === undefined ? error : redactFactor(error, run.factor);
  }
}
