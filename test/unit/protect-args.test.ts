import { buildDetectionFramesArgs, buildDisguiseArgs, buildProtectArgs, pixelBlock, drawVoiceFactor, redactFactor, voiceFilters } from '../../worker/steps/protect.step';
import { FfmpegError } from '../../worker/ffmpeg/ffmpeg';
import { LEGACY_PROTECTION, protectionFromFields } from '../../shared/protection/protection';
import { parseFields } from '../../server/upload/submission-fields';

const plan = {
  masterPath: '/job/master.mp4',
  audioFromPath: null,
  outDir: '/job/out',
  master: { width: 1920, height: 1080 },
  preview: { width: 1280, height: 720 },
  fps: 30,
  posterTime: 1,
  voice: null,
  captionsAssPath: null,
  maxDurationSeconds: 180,
};

describe('the protected render', () => {
  test('when faces are masked, then the boxes are drawn once, at the master\'s size, before the master and the preview split', () => {
    const command = buildProtectArgs({ ...plan, picture: { kind: 'faces', scriptPath: '/job/masks.cmd', slots: 2 } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(graph.split(';')[0]).toBe(
      '[0:v:0]scale=1920:1080,setsar=1,sendcmd=f=/job/masks.cmd,drawbox@m0=x=-16:y=-16:w=1:h=1:color=black:t=fill,drawbox@m1=x=-16:y=-16:w=1:h=1:color=black:t=fill,format=yuv420p,split=2[vm][vpsrc]',
    );
    expect(command.outputs.map((o) => o.path)).toEqual(['/job/out/protected-master.mp4', '/job/out/preview.mp4', '/job/out/poster.jpg']);
    // No metadata survives in any output.
    for (const output of command.outputs.slice(0, 2)) expect(output.args).toEqual(expect.arrayContaining(['-map_metadata', '-1']));
  });

  test('when the style is strong pixelation, then 90 px blocks of the 1080p picture are laid over it through a hard matte of the same moving boxes, and nothing is drawn black', () => {
    const command = buildProtectArgs({ ...plan, picture: { kind: 'faces', scriptPath: '/job/masks.cmd', slots: 1, style: 'pixelate' } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(graph.split(';').slice(0, 6)).toEqual([
      '[0:v:0]scale=1920:1080,setsar=1,split=3[pxclean][pxsrc][pxmattesrc]',
      '[pxsrc]scale=22:12:flags=area,scale=1920:1080:flags=neighbor[pxblocks]',
      "[pxmattesrc]drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill,sendcmd=f=/job/masks.cmd,drawbox@m0=x=-16:y=-16:w=1:h=1:color=white:t=fill,format=gray,lut=c0='if(gt(val,127),255,0)'[pxmatte]",
      '[pxblocks][pxmatte]alphamerge[pxcover]',
      '[pxclean][pxcover]overlay=0:0[pixelated]',
      '[pixelated]format=yuv420p,split=2[vm][vpsrc]',
    ]);
    expect(graph).not.toContain('color=black:t=fill,format=yuv420p');
    expect(pixelBlock({ width: 720, height: 1280 })).toBe(60);
    expect(pixelBlock({ width: 64, height: 48 })).toBe(8);
  });

  test('when the card replaces the picture, then every frame is filled with the campaign colour and the card image is laid over it', () => {
    const command = buildProtectArgs({ ...plan, picture: { kind: 'card', colour: '#aa0011', imagePath: '/job/card' } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('drawbox=x=0:y=0:w=iw:h=ih:color=0xaa0011:t=fill');
    expect(graph).toContain('[1:v]scale=1536:864:force_original_aspect_ratio=decrease,format=rgba[card]');
    expect(command.inputs.map((i) => i.path)).toEqual(['/job/master.mp4', '/job/card']);
  });

  test('when a re-render keeps the disguised sound, then it comes from the protected master and no pitch shift is applied again', () => {
    const command = buildProtectArgs({ ...plan, audioFromPath: '/job/protected-master.mp4', picture: { kind: 'faces', scriptPath: '/job/masks.cmd', slots: 1 } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(graph).toMatch(/\[1:a:0\]aresample=48000[^;]*asplit=2\[am\]\[ap\]/);
    expect(graph).not.toContain('rubberband');
  });

  test('when only the review part is drawn (processing, first), then the preview, captioned preview and poster are made from the masked picture and no protected master', () => {
    const command = buildProtectArgs({ ...plan, parts: 'review', captionsAssPath: '/job/captions.ass', voice: voiceFilters(1.2), picture: { kind: 'faces', scriptPath: '/job/masks.cmd', slots: 1 } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(command.outputs.map((o) => o.path)).toEqual(['/job/out/preview.mp4', '/job/out/preview-captioned.mp4', '/job/out/poster.jpg']);
    expect(graph.split(';')[0]).toMatch(/^\[0:v:0\]scale=1920:1080,setsar=1,sendcmd=.*drawbox@m0=.*,format=yuv420p,null\[vpsrc\]$/);
    expect(graph).not.toContain('[vm]');
    expect(graph).toMatch(/rubberband=pitch=1\.2[^;]*asplit=2\[ap\]\[ac\]$/);
  });

  test('when only the master part is drawn (the follow-up job), then the masked picture goes to the protected master alone, with the disguised sound of the preview', () => {
    const command = buildProtectArgs({ ...plan, parts: 'master', audioFromPath: '/job/disguised-sound.mp4', picture: { kind: 'faces', scriptPath: '/job/masks.cmd', slots: 1, style: 'pixelate' } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(command.outputs.map((o) => o.path)).toEqual(['/job/out/protected-master.mp4']);
    expect(command.inputs.map((i) => i.path)).toEqual(['/job/master.mp4', '/job/disguised-sound.mp4']);
    expect(graph).toContain('[pixelated]format=yuv420p,null[vm]');
    expect(graph).not.toContain('[vpsrc]');
    expect(graph).toMatch(/\[1:a:0\]aresample=48000[^;]*anull\[am\]$/);
    expect(graph).not.toContain('rubberband');
  });

  test('when the voice is disguised, then the sound is pitch-shifted between high- and low-pass filters', () => {
    const command = buildProtectArgs({ ...plan, voice: voiceFilters(0.8123), picture: { kind: 'none' } });
    const graph = command.globalArgs[command.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('[0:a:0]highpass=f=100,rubberband=pitch=0.8123:pitchq=quality:formant=shifted,lowpass=f=6000');
  });

  test('when the voice is disguised, then it is done once, into float PCM (Matroska) in the job\'s folder, measured on the way; the render takes that file and only sets its loudness', () => {
    const disguise = buildDisguiseArgs('/job/master.mp4', 1.2034, '/job/disguised-voice.mka');
    expect(disguise.outputs).toEqual([{ path: '/job/disguised-voice.mka', args: ['-map', '0:a:0', '-af', expect.stringMatching(/^highpass=f=100,rubberband=pitch=1\.2034:pitchq=quality:formant=shifted,lowpass=f=6000,aresample=48000[^;]*,ebur128=peak=true:framelog=verbose$/), '-c:a', 'pcm_f32le', '-f', 'matroska'] }]);
    const render = buildProtectArgs({ ...plan, parts: 'review', audioFromPath: '/job/disguised-voice.mka', voice: ['aresample=48000', 'volume=-3.5dB'], picture: { kind: 'none' } });
    const graph = render.globalArgs[render.globalArgs.indexOf('-filter_complex') + 1]!;
    expect(graph).toMatch(/;\[1:a:0\]aresample=48000,volume=-3\.5dB,anull\[ap\]$/);
    expect(graph).not.toContain('rubberband');
  });

  test('when frames are read for detection, then every n-th frame is selected, scaled and sent raw, one for one', () => {
    const command = buildDetectionFramesArgs('/job/master.mp4', 3, { width: 960, height: 540 });
    expect(command.outputs[0]!.args).toEqual(['-map', '0:v:0', '-vf', 'select=not(mod(n\\,3)),scale=960:540:flags=bilinear,format=rgb24', '-fps_mode', 'passthrough', '-f', 'rawvideo']);
    expect(command.outputs[0]!.path).toBe('pipe:1');
  });
});

describe('the voice factor', () => {
  test('when drawn, then it lies in 0.78–0.85 or 1.18–1.25, never near 1, and both bands are reachable', () => {
    expect(drawVoiceFactor(() => 0)).toBeCloseTo(0.78, 5);
    expect(drawVoiceFactor(() => 699)).toBeCloseTo(0.8499, 5);
    expect(drawVoiceFactor(() => 700)).toBeCloseTo(1.18, 5);
    expect(drawVoiceFactor(() => 1399)).toBeCloseTo(1.2499, 5);
    const drawn = Array.from({ length: 2000 }, () => drawVoiceFactor());
    expect(drawn.every((f) => (f >= 0.78 && f < 0.85) || (f >= 1.18 && f < 1.25))).toBe(true);
    expect(new Set(drawn.map((f) => f.toFixed(4))).size).toBeGreaterThan(500);
  });

  test('when an ffmpeg error quotes the factor, then the factor is taken out of its message and its log tail', () => {
    const error = new FfmpegError('failed', 'ffmpeg exited: rubberband=pitch=0.8123 failed', '[Parsed_rubberband_1] pitch 0.8123');
    const clean = redactFactor(error, 0.8123) as FfmpegError;
    expect(clean).toBeInstanceOf(FfmpegError);
    expect(clean.kind).toBe('failed');
    expect(`${clean.message} ${clean.stderrTail}`).not.toContain('0.8123');
  });
});

describe('the contributor\'s choice', () => {
  const base = { campaign: 'demo', organisation: 'Union', country: 'BY', language: 'be', title: 'T', consent: JSON.stringify({ version: 1, language: 'be', statements: [] }) };

  test.each([
    [{}, { face: false, voice: false, card: false }],
    [{ protection: 'true' }, LEGACY_PROTECTION],
    [{ protectFace: 'true' }, { face: true, voice: false, card: false }],
    [{ protectVoice: 'on', protectCard: 'true' }, { face: false, voice: true, card: true }],
    [{ protection: 'true', protectCard: 'true' }, { face: true, voice: true, card: true }],
    [{ protectFace: 'false', protectVoice: '' }, { face: false, voice: false, card: false }],
  ])('when the form sends %j, then the protection is %j', (fields, expected) => {
    expect(parseFields({ ...base, ...fields }).protection).toEqual(expected);
  });

  test('when an option has another value, then the form is refused naming it', () => {
    expect(() => parseFields({ ...base, protectFace: 'yes please' })).toThrow(expect.objectContaining({ code: 'invalid_fields', details: { errors: [expect.objectContaining({ field: 'protectFace' })] } }));
  });

  test('the old switch maps to face and voice', () => {
    expect(protectionFromFields({ protection: true })).toEqual({ face: true, voice: true, card: false });
  });
});
