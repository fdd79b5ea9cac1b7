import { statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { JobFolderReport, OpsCounters } from '../shared/ops-counters';

/** How often a worker reports its job folder's free space (the server's metrics read the last report). */
export const JOB_FOLDER_REPORT_EVERY_MS = 30_000;

/**
 * The free space and size of the filesystem holding the job folder (WORK_DIR), as `statfs` gives them: free is
 * what an unprivileged process may still write (`bavail`). Named after the machine (a pod's name in Kubernetes):
 * workers on one machine share its disk.
 */
export async function jobFolderFigures(root: string, now: Date, worker = hostname()): Promise<JobFolderReport> {
  const stats = await statfs(root);
  return { worker, freeBytes: stats.bavail * stats.bsize, sizeBytes: stats.blocks * stats.bsize, at: now };
}

export async function reportJobFolder(counters: OpsCounters, root: string, now = new Date()): Promise<void> {
  await counters.reportJobFolder(await jobFolderFigures(root, now));
}
