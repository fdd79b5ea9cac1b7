import { runCli } from '../../server/cli/cli';
import { claim, settle } from '../../shared/submissions/processing';
import type { Submission } from '../../shared/submissions/submission.model';
import { FIXTURES } from '../helpers/fixtures';
import { seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { runWorker, submitFile, workerDeps } from '../helpers/worker-env';

describe('the operator command line', () => {
  let app: TestApp;
  let reviewed: string;
  let failed: string;

  async function cli(...args: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    const code = await runCli(args, app.services, (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  }

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    reviewed = (await runWorker(workerDeps(app), await submitFile(app, await FIXTURES.noAudio!())))._id.toHexString();
    failed = await submitFile(app, await FIXTURES.noAudio!());
    const claimed = await claim(app.services.db.submissions, failed, { by: 'test', leaseSeconds: 60 });
    if (claimed.kind !== 'claimed') throw new Error(claimed.kind);
    await settle(app.services.db.submissions, failed, claimed.lease.id, { kind: 'failed', error: 'S3 was down' }, { by: 'test' });
  });

  afterAll(async () => {
    await app.close();
  });

  test('when submissions are listed by state, then only that state is shown', async () => {
    const { code, out } = await cli('submissions', 'list', '--state', 'in_review');
    expect(code).toBe(0);
    expect(out).toContain(reviewed);
    expect(out).not.toContain(failed);
  });

  test('when one is shown, then its state, media and outputs come with working short-lived links, and no contact details', async () => {
    const { out } = await cli('submissions', 'show', reviewed);
    const shown = JSON.parse(out) as Submission & { links: Record<string, string> };
    expect(shown.status).toBe('in_review');
    expect(shown.media).toMatchObject({ video: { codec: 'h264' } });
    expect(Object.keys(shown.links).sort()).toEqual(['master', 'poster', 'preview']);
    expect((await fetch(shown.links.preview!)).status).toBe(200);
    expect(out).not.toMatch(/contactEmail|statusTokenHash/);
  });

  test('when a failed submission is requeued, then it is back to received with a job, and the worker finishes it', async () => {
    expect((await cli('submissions', 'requeue', failed)).code).toBe(0);
    const requeued = (await app.services.db.submissions.findById(failed).lean<Submission>())!;
    expect(requeued.status).toBe('received');
    expect(requeued.history.at(-1)).toMatchObject({ transition: 'requeued', by: 'operator' });
    expect(await app.services.queue.jobState(failed)).toBe('waiting');
    expect((await runWorker(workerDeps(app), failed)).status).toBe('in_review');
  });

  test('when a clip in review is requeued, then it is refused, saying why, and stays in review', async () => {
    await expect(cli('submissions', 'requeue', reviewed)).rejects.toThrow(/"in_review" is not requeued/);
    expect((await app.services.db.submissions.findById(reviewed).lean<Submission>())!.status).toBe('in_review');
  });

  test('when the words are wrong, then it prints its usage and exits 2', async () => {
    expect(await cli('submissions', 'explode')).toMatchObject({ code: 2, out: expect.stringContaining('usage') });
    await expect(cli('submissions', 'list', '--state', 'lost')).rejects.toThrow(/unknown state/);
  });
});
