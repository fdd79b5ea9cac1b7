import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../shared/config';

/** No Docker engine here: check what can be checked without one. */
describe('docker-compose.yml', () => {
  const root = join(__dirname, '..', '..');
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; depends_on?: Record<string, unknown>; build?: { dockerfile: string } }>;
  };

  test('it runs MongoDB, Redis, MinIO, the server and the worker', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['mongo', 'redis', 'minio', 'server', 'worker']));
  });

  test('the app services set only variables the config knows, and depend only on services that exist', () => {
    for (const name of ['server', 'worker']) {
      const service = compose.services[name]!;
      for (const key of Object.keys(service.environment ?? {})) expect(CONFIG_VARIABLES).toContain(key);
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(dependency);
      expect(readFileSync(join(root, service.build!.dockerfile), 'utf8')).toMatch(/^FROM node:\d+/m);
    }
  });

  test('the app services start with their environment on top of the image\'s (the config accepts it)', () => {
    const dockerfile = readFileSync(join(root, 'infra', 'Dockerfile'), 'utf8');
    const imageEnv = Object.fromEntries(
      [...dockerfile.matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).map((pair) => pair.split('=') as [string, string])),
    );
    for (const name of ['server', 'worker']) {
      expect(() => loadConfig({ ...imageEnv, ...compose.services[name]!.environment })).not.toThrow();
    }
  });
});
