import { mkdir, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerDeps } from '../../worker/deps';
import { FIXTURES } from '../helpers/fixtures';
import { hostileSubtitles } from '../helpers/hostile-subtitles';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, runWorker, submitFile, workerDeps } from '../helpers/worker-env';

/**
 * A subtitle file made to stall the parser, through the real worker handler (real S3, database and
 * ffprobe/ffmpeg): the clip is answered at once, and the next clip is not held up behind it.
 */
describe('hostile subtitle files in the worker', () => {
  let app: TestApp;
  let deps: WorkerDeps;
  const workDir = join(tmpdir(), `solidarity-hostile-subtitles-${process.pid}`);
  const hostile = (name: string) => hostileSubtitles().find((file) => file.name === name)!;

  beforeAll(async () => {
    await mkdir(workDir, { recursive: true });
    app = await startTestApp({ WORK_DIR: workDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
    await seedDemoCampaign(app.deps);
    deps = workerDeps(app);
  });

  afterAll(async () => {
    await app.close();
  });

  afterEach(async () => {
    expect(await readdir(workDir)).toEqual([]);
  });

  async function timedRun(id: string) {
    const started = Date.now();
    const done = await runWorker(deps, id);
    return { done, seconds: (Date.now() - started) / 1000 };
  }

  test.each([['one line of "{"'], ['one huge cue, CRLF']])(
    'when the subtitles are 1 MiB of %s, then the clip is rejected naming the line, and a plain clip after it reaches review promptly',
    async (name) => {
      const file = hostile(name);
      if (file.outcome === 'accepted') throw new Error('this test wants a file that is refused');
      const clip = await FIXTURES.noAudio!();
      const refused = await timedRun(await submitFile(app, clip, { subtitles: file.bytes, language: 'en' }));
      expect(refused.done.status).toBe('rejected');
      expect(refused.done.rejection).toEqual({ code: 'subtitles_invalid', reason: expect.stringContaining(`line ${file.outcome.refusedAt}:`) });
      expect(refused.done.rejection?.reason).toMatch(file.outcome.reason);
      expect(await app.services.storage.list(`outputs/${refused.done._id.toHexString()}/`)).toEqual([]);
      // Download, probe and the refusal: seconds. The parser it replaces held the worker for minutes.
      expect(refused.seconds).toBeLessThan(30);

      const plain = await timedRun(await submitFile(app, clip));
      expect(plain.done.status).toBe('in_review');
      expect(plain.seconds).toBeLessThan(60);
    },
  );

  test('when 1 MiB of cues is heavy with markup but within the limits, then the clip is accepted with plain captions', async () => {
    const file = hostile('5000 cues of markup at the limits');
    const { done } = await timedRun(await submitFile(app, await FIXTURES.noAudio!(), { subtitles: file.bytes, language: 'en' }));
    expect(done.status).toBe('in_review');
    const vtt = await readFile(await downloadOutput(deps, done, 'captionsVtt'), 'utf8');
    const cues = vtt.split('\n\n').slice(1);
    expect(cues.length).toBeGreaterThan(4000);
    // What is left of "{\an8}<b>x</b>&amp;<i" × 9: the text, and the last "<i" (never closed) as text.
    expect(cues[0]).toBe(`00:00:00.000 --> 00:00:00.005\n${'x&amp;'.repeat(9)}&lt;i`);
  });
});
