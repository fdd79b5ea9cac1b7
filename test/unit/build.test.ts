import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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
    // The script's own tsc and project, asked what it would compile and where (a second full compile here
    // would cost ~20 CPU-seconds: \`npm test\`'s setup has just compiled the same sources, type checks included).
    const tsc = (...args: string[]) => promisify(execFile)(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, project!), ...args], { cwd: root, maxBuffer: 1 << 26 });
    const config = JSON.parse((await tsc('--showConfig')).stdout) as { compilerOptions: { outDir: string; rootDir: string; noEmit?: boolean } };
    expect([resolve(root, config.compilerOptions.rootDir), resolve(root, config.compilerOptions.outDir), config.compilerOptions.noEmit ?? false]).toEqual([root, join(root, 'dist'), false]);
    const compiled = (await tsc('--listFilesOnly')).stdout
      .split('\n')
      .filter((file) => file.startsWith(`${root}/`) && !file.includes('/node_modules/'))
      .map((file) => relative(root, file));
    for (const entry of ['server/main.ts', 'worker/main.ts', 'server/cli/cli.ts', 'infra/local/dev.ts', 'infra/local/demo-campaign.json']) {
      expect(compiled).toContain(entry);
    }
    expect(compiled.filter((file) => file.startsWith('test/'))).toEqual([]);
  }, 120_000);

  test('the Docker image builds the same way', () => {
    const dockerfile = readFileSync(join(root, 'infra', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/COPY [^\n]*tsconfig\.build\.json/);
  });
});
