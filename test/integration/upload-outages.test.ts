import { createJobQueue } from '../../shared/queue/queue';
import { createObjectStorage } from '../../shared/storage/object-storage';
import { smallMp4 } from '../helpers/fixtures';
import { postMultipart } from '../helpers/multipart';
import { demoConsent, seedDemoCampaign, startTestApp, type TestApp } from '../helpers/test-env';

const fields = {
  campaign: 'demo',
  organisation: 'Congress of Democratic Trade Unions',
  country: 'BY',
  language: 'en',
  title: 'Free them',
  consent: demoConsent('en'),
};

/** A loopback port where nothing listens. */
const DEAD = '127.0.0.1:9';

describe('uploads while a dependency is down', () => {
  let video: Buffer;
  beforeAll(async () => {
    video = await smallMp4();
  });

  async function send(app: TestApp) {
    return postMultipart(`${app.baseUrl}/api/submissions`, fields, [{ field: 'video', filename: 'clip.mp4', content: video }]);
  }

  test('when S3 is unreachable, then the upload gets 503 storage_unavailable, no document is written, and the server stays healthy', async () => {
    const app = await startTestApp({}, undefined, (config) => ({
      storage: createObjectStorage({ ...config.s3, endpoint: `http://${DEAD}` }, config.upload),
    }));
    try {
      await seedDemoCampaign(app.deps);
      const response = await send(app);
      expect({ status: response.status, code: response.json.code }).toEqual({ status: 503, code: 'storage_unavailable' });
      expect(await app.services.db.submissions.countDocuments()).toBe(0);
      expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${app.baseUrl}/readyz`)).status).toBe(503);
    } finally {
      await app.close();
    }
  });

  test('when the database goes away, then the upload gets 503 database_unavailable and the stored clip is removed', async () => {
    const app = await startTestApp();
    try {
      await seedDemoCampaign(app.deps);
      await app.services.db.connection.close();
      const response = await send(app);
      expect({ status: response.status, code: response.json.code }).toEqual({ status: 503, code: 'database_unavailable' });
      expect(await app.services.storage.list('')).toEqual([]);
      expect((await fetch(`${app.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  test('when Redis is unreachable, then the upload gets 503 queue_unavailable, and neither document nor clip is left', async () => {
    const deadQueue = createJobQueue({ redisUrl: `redis://${DEAD}`, prefix: 'dead' });
    const app = await startTestApp({}, undefined, () => ({ queue: deadQueue }));
    try {
      await seedDemoCampaign(app.deps);
      const response = await send(app);
      expect({ status: response.status, code: response.json.code }).toEqual({ status: 503, code: 'queue_unavailable' });
      expect(await app.services.db.submissions.countDocuments()).toBe(0);
      expect(await app.services.storage.list('')).toEqual([]);
    } finally {
      await app.close();
      await Promise.race([deadQueue.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    }
  });
});
