import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { processSubmission } from '../../worker/handlers/process-submission.handler';
import { FIXTURES, ffprobeJson } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';
import { downloadOutput, workerDeps } from '../helpers/worker-env';
import { waitUntil } from '../helpers/wait-until';
import type { Submission } from '../../shared/submissions/submission.model';

const run = promisify(execFile);

/** From a phone's upload to a preview a moderator can watch: HTTP, S3, the queue, the worker, ffmpeg. */
describe('upload to preview', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await seedDemoCampaign(app.deps);
    const deps = workerDeps(app);
    app.services.queue.process('process-submission', 1, (job) => processSubmission(deps, job));
  });

  afterAll(async () => {
    await app.close();
  });

  test('when a union uploads a sideways phone clip with Belarusian subtitles, then its status ends "in_review" and the preview plays to the end', async () => {
    const srt = Buffer.from('1\n00:00:00,500 --> 00:00:02,500\nПрафсаюзы — не экстрэмізм\n');
    const upload = await postMultipart(
      `${app.baseUrl}/api/submissions`,
      { campaign: 'demo', organisation: 'BNP', country: 'BY', language: 'be', title: 'Салідарнасць', consent: demoConsent('be') },
      [
        { field: 'video', filename: 'VID_20240301.mp4', content: await readFile(await FIXTURES.rotated!()) },
        { field: 'subtitles', filename: 'subs.srt', content: srt },
      ],
    );
    expect(upload.status).toBe(202);
    const { id, statusToken } = upload.json as { id: string; statusToken: string };

    const seen = new Set<string>();
    let status: { status: string; progress: number | null } = { status: 'received', progress: null };
    await waitUntil(async () => {
      const response = await fetch(`${app.baseUrl}/api/submissions/${id}/status`, { headers: { Authorization: `Bearer ${statusToken}` } });
      status = (await response.json()) as typeof status;
      seen.add(status.status);
      return ['in_review', 'rejected', 'failed'].includes(status.status);
    }, { timeoutMs: 60_000, what: 'the clip to be processed (in review, rejected or failed)', seen: () => status });
    expect(status.status).toBe('in_review');
    expect([...seen].every((s) => ['received', 'processing', 'in_review'].includes(s))).toBe(true);

    const submission = (await app.services.db.submissions.findById(id).lean<Submission>())!;
    expect(Object.keys(submission.outputs).sort()).toEqual(['captionedPreview', 'captionsSrt', 'captionsVtt', 'master', 'poster', 'preview']);
    const sourceSeconds = Number((await ffprobeJson(await FIXTURES.rotated!())).format.duration);
    for (const name of ['preview', 'captionedPreview']) {
      const path = await downloadOutput(app.services, submission, name);
      // Decoding the whole file reports no error: the preview is watchable to the end, as long as the clip.
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
      expect(stderr).toBe('');
      const seconds = Number((await ffprobeJson(path)).format.duration);
      expect({ name, seconds, within: Math.abs(seconds - sourceSeconds) <= 0.1 }).toEqual({ name, seconds, within: true });
    }
  });
});
