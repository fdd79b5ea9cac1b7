import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The S3 client is built in one place; a process says the SDK's Node-version warning at most once, in one line. */
describe('the AWS SDK Node-version warning', () => {
  const root = join(__dirname, '..', '..');

  test('when a process builds several S3 clients, then the warning is said at most once, in one line, and other warnings still show', async () => {
    // A real process (warnings go to its stderr), running the build of shared/storage (made by `npm test`'s setup).
    const script = `
      const { createObjectStorage } = require(${JSON.stringify(join(root, 'dist', 'shared', 'storage', 'object-storage.js'))});
      const s3 = { region: 'us-east-1', forcePathStyle: true, accessKeyId: 'a', secretAccessKey: 'b', endpoint: 'http://127.0.0.1:9', bucket: 'x' };
      for (let i = 0; i < 3; i += 1) createObjectStorage(s3, { partBytes: 5242880, partsInFlight: 2 }).client.destroy();
      process.emitWarning('another warning', 'SomeOtherWarning');
    `;
    const { stderr } = await promisify(execFile)(process.execPath, ['-e', script], { env: { PATH: process.env.PATH } });
    const sdkLines = stderr.split('\n').filter((line) => /AWS SDK|NodeVersionSupport|node >=/i.test(line));
    const major = Number(process.versions.node.split('.')[0]);
    expect(sdkLines).toHaveLength(major < 22 ? 1 : 0);
    expect(stderr).not.toMatch(/versions published after/);
    expect(stderr).toMatch(/SomeOtherWarning: another warning/);
  });
});
