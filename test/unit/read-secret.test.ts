import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** How the command line reads a password that is piped in (`printf '%s\n' "$PASSWORD" | npm run cli -- staff create-admin …`). */
describe('reading a secret from standard input', () => {
  const module = join(__dirname, '..', '..', 'dist', 'server', 'cli', 'read-secret.js');
  const run = (stdin: string) =>
    new Promise<string>((resolve) => {
      const child = execFile(process.execPath, ['-e', `require(${JSON.stringify(module)}).readSecret('p').then((s) => console.log('got:' + s), (e) => console.log('error:' + e.message))`], (_error, stdout) => resolve(stdout.trim()));
      child.stdin!.end(stdin);
    });

  test('when a password is piped in, then its first line is the secret', async () => {
    expect(await run('a long test password\nsecond line\n')).toBe('got:a long test password');
    expect(await run('no newline at the end')).toBe('got:no newline at the end');
  });

  test('when nothing is piped in, then it says so', async () => {
    expect(await run('')).toBe('error:no password on standard input');
  });
});
