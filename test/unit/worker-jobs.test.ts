import { ConfigError, loadConfig } from '../../shared/config';
import { jobNamesOf, queueOf, type JobName } from '../../shared/queue/queue';
import { HANDLERS } from '../../worker/handlers/handlers';

const ALL = Object.keys(HANDLERS) as JobName[];

describe('WORKER_JOBS', () => {
  test('when it is not set, then a worker takes every job', () => {
    expect(loadConfig({}).worker.jobs).toBe('all');
    expect(jobNamesOf('all', ALL).sort()).toEqual([...ALL].sort());
  });

  test('when it is all-but-webhooks, then the worker takes every job but the webhook deliveries', () => {
    const config = loadConfig({ WORKER_JOBS: 'all-but-webhooks' });
    expect(config.worker.jobs).toBe('all-but-webhooks');
    expect(jobNamesOf(config.worker.jobs, ALL).sort()).toEqual(ALL.filter((name) => name !== 'deliver-webhook').sort());
  });

  test('when it is deliver-webhook, then the worker takes the webhook deliveries only', () => {
    expect(jobNamesOf(loadConfig({ WORKER_JOBS: 'deliver-webhook' }).worker.jobs, ALL)).toEqual(['deliver-webhook']);
  });

  test('when it names anything else (a single media job, a list), then loading fails and names the variable', () => {
    for (const value of ['process-submission', 'deliver-webhook,process-submission', 'webhooks', '']) {
      expect(() => loadConfig({ WORKER_JOBS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ WORKER_JOBS: value })).toThrow(/WORKER_JOBS/);
    }
  });

  test('when the jobs are split, then each set is exactly one bull queue (a worker takes a whole queue or none of it)', () => {
    // bull fails a job its worker has no handler for: a set that took part of a queue would fail the rest.
    expect(new Set(jobNamesOf('deliver-webhook', ALL).map(queueOf))).toEqual(new Set(['webhooks']));
    expect(new Set(jobNamesOf('all-but-webhooks', ALL).map(queueOf))).toEqual(new Set(['submissions']));
    expect(ALL.filter((name) => queueOf(name) === 'submissions').sort()).toEqual(jobNamesOf('all-but-webhooks', ALL).sort());
  });
});
