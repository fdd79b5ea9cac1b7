import type { JobName, QueueJob } from '../../shared/queue/queue';
import type { WorkerDeps } from '../deps';
import { processSubmission } from './process-submission.handler';
import { releaseSubmission } from './release-submission.handler';
import { takedownSubmission } from './takedown-submission.handler';
import { deliverWebhook } from './deliver-webhook.handler';
import { captionPreview } from './caption-preview.handler';
import { protectClip } from './protect-clip.handler';
import { verifyFile } from './verify-file.handler';

/** Every job the worker takes, by name: one handler each (worker/main.ts registers them all). */
export const HANDLERS: { [N in JobName]: (deps: WorkerDeps, job: QueueJob<N>) => Promise<void> } = {
  'process-submission': processSubmission,
  'release-submission': releaseSubmission,
  'takedown-submission': takedownSubmission,
  'deliver-webhook': (deps, job) => deliverWebhook(deps, job),
  'caption-preview': captionPreview,
  'protect-clip': protectClip,
  'verify-file': verifyFile,
};
