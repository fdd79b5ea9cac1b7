import { requireSubtitleText, sniffVideoContainer } from '../../server/upload/sniff';

const box = (size: number, type: string, rest = 0) => {
  const b = Buffer.alloc(8 + rest);
  b.writeUInt32BE(size, 0);
  b.write(type, 4, 'latin1');
  return b;
};

describe('sniffVideoContainer', () => {
  test.each([
    ['an MP4 (ftyp isom)', Buffer.concat([box(32, 'ftyp'), Buffer.from('isom')]), 'mp4'],
    ['a 3GP (ftyp 3gp5)', Buffer.concat([box(24, 'ftyp'), Buffer.from('3gp5')]), 'mp4'],
    ['an old QuickTime MOV starting with a wide box', box(8, 'wide'), 'mp4'],
    ['a QuickTime file starting with mdat of 64-bit size', box(1, 'mdat', 8), 'mp4'],
    ['Matroska / WebM', Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42]), 'matroska'],
    ['AVI', Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI LIST')]), 'avi'],
  ])('when the head is %s, then it is %s', (_what, head, container) => {
    expect(sniffVideoContainer(head)?.container).toBe(container);
  });

  test('when the head has MPEG-TS sync bytes every 188 bytes, then it is mpegts; every 192 (M2TS) too', () => {
    const ts = Buffer.alloc(188 * 3);
    [0, 188, 376].forEach((at) => (ts[at] = 0x47));
    const m2ts = Buffer.alloc(192 * 3);
    [4, 196, 388].forEach((at) => (m2ts[at] = 0x47));
    expect(sniffVideoContainer(ts)?.container).toBe('mpegts');
    expect(sniffVideoContainer(m2ts)?.container).toBe('mpegts');
  });

  test.each([
    ['a PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['a PDF', Buffer.from('%PDF-1.7\n')],
    ['a WAV (RIFF but not AVI)', Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE')])],
    ['an HLS playlist', Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n')],
    ['a box of impossible size', box(3, 'ftyp')],
    ['one MPEG-TS sync byte only', Buffer.from([0x47, 0, 0])],
    ['nothing', Buffer.alloc(0)],
  ])('when the head is %s, then it is refused', (_what, head) => {
    expect(sniffVideoContainer(head)).toBeNull();
  });
});

describe('requireSubtitleText', () => {
  test('when the file is UTF-16 text (with NUL bytes), then it is accepted', () => {
    expect(() => requireSubtitleText(Buffer.from('\ufeff1\r\n', 'utf16le'))).not.toThrow();
  });
  test('when the file is windows-1251 text, then it is accepted', () => {
    expect(() => requireSubtitleText(Buffer.from([0x31, 0x0d, 0x0a, 0xcf, 0xf0, 0xe8]))).not.toThrow();
  });
  test('when the file is binary or a video, then it is refused', () => {
    expect(() => requireSubtitleText(Buffer.from([0x31, 0x00, 0x32]))).toThrow(expect.objectContaining({ code: 'unsupported_subtitle_type' }));
    expect(() => requireSubtitleText(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]))).toThrow(expect.objectContaining({ code: 'unsupported_subtitle_type' }));
  });
});
