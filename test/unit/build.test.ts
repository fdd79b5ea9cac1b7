import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** `npm run build` is what the README tells operators to run, and what the Docker image runs. */
describe('npm run build', () => {
  const root = join(__dirname, '..', '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

  test('when it is run, then it compiles the server, the worker and the CLI without the tests', async () => {
    const script = pkg.scripts.build ?? '';
    const project = /-p\s+(\S+)/.exec(script)?.[1];
    expect(project).toBeDefined();
    expect(existsSync(join(root, project!))).toBe(true);
    const out = mkdtempSync(join(tmpdir(), 'solidarity-build-'));
    try {
      // The script's own tsc and project, into a folder of our own (dist/ belongs to the test run).
      await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, project!), '--outDir', out], { cwd: root });
      for (const entry of ['server/main.js', 'worker/main.js', 'server/cli/cli.js', 'infra/local/dev.js', 'infra/local/demo-campaign.json']) {
        expect(existsSync(join(out, entry))).toBe(true);
      }
      expect(existsSync(join(out, 'test'))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  test('the Docker image builds the same way', () => {
    const dockerfile = readFileSync(join(root, 'infra', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/COPY [^\n]*tsconfig\.build\.json/);
  });
});
