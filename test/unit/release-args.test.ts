import { commandArgs } from '../../worker/ffmpeg/ffmpeg';
import { blurredFillFilters, buildReleaseArgs, releaseFiles, shapeSize } from '../../worker/steps/release.step';
import { toAss } from '../../shared/subtitles/subtitles';
import { CAPTION_SAFE_AREAS } from '../../worker/steps/release.step';

const H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-g', '60', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'];
const STRIP = ['-map_metadata', '-1', '-map_chapters', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact', '-movflags', '+faststart'];
const VIDEO = (label: string, path: string) => ['-map', label, '-map', '0:a:0', ...H264, '-c:a', 'copy', ...STRIP, path];
const POSTER = (label: string, path: string) => ['-map', label, '-frames:v', '1', '-update', '1', '-q:v', '3', '-fflags', '+bitexact', '-flags:v', '+bitexact', path];
const SELECT = 'select=isnan(prev_selected_t)*gte(t\\,1)*eq(pict_type\\,I)';
const ASS = { source: '/w/be-source.ass', square: '/w/be-square.ass', vertical: '/w/be-vertical.ass' };

describe('buildReleaseArgs', () => {
  test('when a 1080p master has Belarusian captions, then one decode makes 3 shapes × (plain, captioned) and a poster per shape', () => {
    const args = commandArgs(buildReleaseArgs({ masterPath: '/w/master.mp4', outDir: '/w/out', master: { width: 1920, height: 1080 }, fps: 30, posterTime: 1, captions: [{ language: 'be', assPaths: ASS }] }));
    expect(args.slice(0, 6)).toEqual(['-hide_banner', '-nostdin', '-loglevel', 'error', '-stats', '-filter_complex']);
    expect(args[6]!.split(';')).toEqual([
      '[0:v:0]split=3[sourcein][squarein][verticalin]',
      '[sourcein]setsar=1,split=3[source0][sourcec0][sourcep]',
      '[sourcec0]ass=filename=/w/be-source.ass[sourcecap0]',
      `[sourcep]${SELECT}[postersource]`,
      '[squarein]split=2[squareinbg][squareinfg]',
      '[squareinbg]scale=270:270:force_original_aspect_ratio=increase,crop=270:270,boxblur=10:2,scale=1080:1080[squareinfill]',
      '[squareinfg]scale=1080:1080:force_original_aspect_ratio=decrease:force_divisible_by=2[squareinfit]',
      '[squareinfill][squareinfit]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p[squareframe]',
      '[squareframe]split=3[square0][squarec0][squarep]',
      '[squarec0]ass=filename=/w/be-square.ass[squarecap0]',
      `[squarep]${SELECT}[postersquare]`,
      '[verticalin]split=2[verticalinbg][verticalinfg]',
      '[verticalinbg]scale=270:480:force_original_aspect_ratio=increase,crop=270:480,boxblur=10:2,scale=1080:1920[verticalinfill]',
      '[verticalinfg]scale=1080:1920:force_original_aspect_ratio=decrease:force_divisible_by=2[verticalinfit]',
      '[verticalinfill][verticalinfit]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p[verticalframe]',
      '[verticalframe]split=3[vertical0][verticalc0][verticalp]',
      '[verticalc0]ass=filename=/w/be-vertical.ass[verticalcap0]',
      `[verticalp]${SELECT}[postervertical]`,
    ]);
    expect(args.slice(7)).toEqual([
      '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file', '-i', '/w/master.mp4',
      '-y',
      ...VIDEO('[source0]', '/w/out/source.mp4'),
      ...VIDEO('[sourcecap0]', '/w/out/source-be.mp4'),
      ...POSTER('[postersource]', '/w/out/poster-source.jpg'),
      ...VIDEO('[square0]', '/w/out/square.mp4'),
      ...VIDEO('[squarecap0]', '/w/out/square-be.mp4'),
      ...POSTER('[postersquare]', '/w/out/poster-square.jpg'),
      ...VIDEO('[vertical0]', '/w/out/vertical.mp4'),
      ...VIDEO('[verticalcap0]', '/w/out/vertical-be.mp4'),
      ...POSTER('[postervertical]', '/w/out/poster-vertical.jpg'),
    ]);
  });

  test('when a clip has no captions, then each shape is made plain with a poster', () => {
    const args = commandArgs(buildReleaseArgs({ masterPath: '/w/m.mp4', outDir: '/o', master: { width: 360, height: 640 }, fps: 25, posterTime: 0, captions: [] }));
    expect(args[6]).toContain('[sourcein]setsar=1,split=2[source0][sourcep]');
    expect(args.filter((a) => a.startsWith('/o/'))).toEqual(['/o/source.mp4', '/o/poster-source.jpg', '/o/square.mp4', '/o/poster-square.jpg', '/o/vertical.mp4', '/o/poster-vertical.jpg']);
    expect(args).toContain('50'); // -g: a keyframe every 2 s at 25 fps
  });

  test('when the campaign has a watermark and an end card, then each shape\'s frame carries the logo in its corner and each video render is followed by the card, with silence under it', () => {
    const args = commandArgs(buildReleaseArgs({ masterPath: '/w/m.mp4', outDir: '/o', master: { width: 1920, height: 1080 }, fps: 30, posterTime: 1, captions: [{ language: 'be', assPaths: ASS }], watermarkPath: '/w/watermark.png', endCard: { path: '/w/end-card.png', seconds: 3 } }));
    const graph = args[6]!.split(';');
    expect(graph.slice(0, 4)).toEqual([
      '[0:v:0]split=3[sourcein][squarein][verticalin]',
      '[1:v]split=3[wmsource][wmsquare][wmvertical]',
      '[2:v]split=3[ecsource][ecsquare][ecvertical]',
      '[0:a:0]apad=pad_dur=3,asplit=6[a0][a1][a2][a3][a4][a5]',
    ]);
    expect(graph).toEqual(expect.arrayContaining([
      '[sourcein]setsar=1[sourceframe]',
      '[wmsource]scale=152:152:force_original_aspect_ratio=decrease[wmsourcefit]',
      '[sourceframe][wmsourcefit]overlay=115:54,format=yuv420p[sourceframewm]',
      '[sourceframewm]split=3[source0][sourcec0][sourcep]',
      // Fitted once, then repeated: 3 s at 30 fps are 90 frames, the first and 89 repeats.
      '[ecsource]scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,format=yuv420p,loop=loop=89:size=1,setpts=N/(30*TB),split=2[ecsource0][ecsource1]',
      '[source0][ecsource0]concat=n=2:v=1:a=0[source0end]',
      '[sourcecap0][ecsource1]concat=n=2:v=1:a=0[sourcecap0end]',
      // 9:16: below the players' top bar (10 % of the height).
      '[verticalframe][wmverticalfit]overlay=86:192,format=yuv420p[verticalframewm]',
    ]));
    // The images are read by the image demuxer only, once each (the card at the renders' rate).
    expect(args.slice(7, 31)).toEqual([
      '-format_whitelist', 'mov,matroska,avi,mpegts', '-protocol_whitelist', 'file', '-i', '/w/m.mp4',
      '-format_whitelist', 'image2', '-protocol_whitelist', 'file', '-f', 'image2', '-pattern_type', 'none', '-i', '/w/watermark.png',
      '-format_whitelist', 'image2', '-protocol_whitelist', 'file', '-f', 'image2', '-pattern_type', 'none',
    ]);
    expect(args.slice(31, 35)).toEqual(['-framerate', '30', '-i', '/w/end-card.png']);
    // The sound is encoded (padded with silence), not copied; posters come from the clip, not the card.
    const first = args.indexOf('/o/source.mp4');
    const output = args.slice(args.indexOf('[source0end]') - 1, first);
    expect(output.slice(0, 4)).toEqual(['-map', '[source0end]', '-map', '[a0]']);
    expect(output.join(' ')).toContain('-c:a aac -b:a 128k -ar 48000 -ac 2');
    expect(args).not.toContain('copy');
    expect(graph).toContain(`[sourcep]${SELECT}[postersource]`);
  });

  test('when there are two caption languages, then every shape gets one captioned render per language', () => {
    const files = releaseFiles({ outDir: '/o', captions: [{ language: 'be', assPaths: ASS }, { language: 'uk', assPaths: ASS }] });
    expect(Object.keys(files).sort()).toEqual(
      ['source', 'source-be', 'source-uk', 'square', 'square-be', 'square-uk', 'vertical', 'vertical-be', 'vertical-uk', 'poster-source', 'poster-square', 'poster-vertical'].sort(),
    );
  });
});

describe('shapes', () => {
  test.each([
    [1920, 1080, [1920, 1080], [1080, 1080], [1080, 1920]],
    [1080, 1920, [1080, 1920], [1080, 1080], [1080, 1920]],
    [640, 360, [640, 360], [640, 640], [360, 640]],
    [360, 640, [360, 640], [640, 640], [360, 640]],
    [1740, 892, [1740, 892], [1080, 1080], [978, 1740]],
    [176, 144, [176, 144], [176, 176], [100, 176]],
  ])('when the master is %i×%i, then source is %j, square %j and vertical %j', (width, height, source, square, vertical) => {
    const master = { width, height };
    expect(shapeSize('source', master)).toEqual({ width: source[0], height: source[1] });
    expect(shapeSize('square', master)).toEqual({ width: square[0], height: square[1] });
    expect(shapeSize('vertical', master)).toEqual({ width: vertical[0], height: vertical[1] });
  });

  test('the blurred fill covers the frame at a quarter size and the picture is fitted on top', () => {
    expect(blurredFillFilters('a', 'b', { width: 1080, height: 1080 })).toEqual([
      '[a]split=2[abg][afg]',
      '[abg]scale=270:270:force_original_aspect_ratio=increase,crop=270:270,boxblur=10:2,scale=1080:1080[afill]',
      '[afg]scale=1080:1080:force_original_aspect_ratio=decrease:force_divisible_by=2[afit]',
      '[afill][afit]overlay=(W-w)/2:(H-h)/2,setsar=1,format=yuv420p[b]',
    ]);
  });

  test('when captions are written for 9:16, then they sit above the bottom fifth and clear of the right-hand buttons', () => {
    const ass = toAss([{ startMs: 0, endMs: 1000, text: 'Hi' }], { width: 1080, height: 1920 }, CAPTION_SAFE_AREAS.vertical);
    expect(ass).toContain('PlayResX: 1080\nPlayResY: 1920');
    // MarginL, MarginR, MarginV: 8 % and 18 % of the width, 22 % of the height.
    expect(ass).toMatch(/,2,86,194,422,-1\n/);
  });
});
