import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Versions of the local services built from source by infra/local/install.sh.
 * This file is the single source: install.sh reads the two lines below with sed,
 * so keep each on one line in exactly this form (bumping a version is a one-line diff).
 */
export const FERRETDB_VERSION = 'v1.24.2';
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

/** Where install.sh caches the built binaries: outside the clone, keyed by version. */
export function localCacheDir(): string {
  return process.env.SOLIDARITY_CACHE_DIR || join(homedir(), '.cache', 'solidarity-clips');
}

/** Paths of the three service binaries and promtool; install.sh puts FerretDB, MinIO and promtool there, Debian Redis. */
export function localBinaryPaths(): { ferretdb: string; minio: string; redisServer: string; promtool: string } {
  const bin = join(localCacheDir(), 'bin');
  return {
    ferretdb: join(bin, `ferretdb-${FERRETDB_VERSION}`),
    minio: join(bin, `minio-${MINIO_VERSION}`),
    redisServer: findOnPath('redis-server') ?? '/usr/bin/redis-server',
    promtool: join(bin, 'promtool'),
  };
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
