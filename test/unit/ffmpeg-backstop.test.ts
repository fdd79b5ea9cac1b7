import { backstopArgs } from '../../worker/ffmpeg/ffmpeg';

describe("ffmpeg's own time limit", () => {
  test('when ffmpeg runs with a wall-clock timeout, then its CPU-time backstop allows every core for that long, and no more', () => {
    expect(backstopArgs({ timeoutSeconds: 1800 }, 2)).toEqual(['-timelimit', '3600']);
    expect(backstopArgs({ timeoutSeconds: 1800 }, 1)).toEqual(['-timelimit', '1800']);
    expect(backstopArgs({ timeoutSeconds: 10 }, 0)).toEqual(['-timelimit', '10']);
  });
});
