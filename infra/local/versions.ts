import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Versions of the local services built from source by infra/local/install.sh.
 * This file is the single source: install.sh reads the two lines below with sed,
 * so keep each on one line in exactly this form (bumping a version is a one-line diff).
 */
export const FERRETDB_VERSION = 'v1.24.2';
/**
 * install.sh builds FerretDB with one line changed so that its SQLite backend uses its own `_id` index (see
 * FERRETDB_ID_INDEX_FIX there); the binary's name says so, so a cached unpatched build is never taken for it.
 */
export const FERRETDB_BUILD_SUFFIX = 'sqlite-id-index';
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
/** Helm, for the chart's tests (test/unit/helm-chart.test.ts); the chart validator's own pins are in infra/helm/validate/go.mod. */
export const HELM_VERSION = 'v4.3.2';

/** Where install.sh caches the built binaries: outside the clone, keyed by version. */
export function localCacheDir(): string {
  return process.env.SOLIDARITY_CACHE_DIR || join(homedir(), '.cache', 'solidarity-clips');
}

/**
 * Paths of the three service binaries and the tools the tests run; install.sh puts FerretDB, MinIO, promtool, helm and
 * the chart validator there, Debian Redis. The validator is keyed by a hash of its sources (a change rebuilds it).
 */
export function localBinaryPaths(): { ferretdb: string; minio: string; redisServer: string; promtool: string; helm: string; chartValidator: string } {
  const bin = join(localCacheDir(), 'bin');
  return {
    ferretdb: join(bin, `ferretdb-${FERRETDB_VERSION}-${FERRETDB_BUILD_SUFFIX}`),
    minio: join(bin, `minio-${MINIO_VERSION}`),
    redisServer: findOnPath('redis-server') ?? '/usr/bin/redis-server',
    promtool: join(bin, 'promtool'),
    helm: join(bin, `helm-${HELM_VERSION}`),
    chartValidator: join(bin, `validate-chart-${chartValidatorHash()}`),
  };
}

/**
 * The first 12 hex digits of the SHA-256 of the validator's go.mod, go.sum and main.go (install.sh's `validator_hash`
 * computes the same), so a change to its sources builds a new one. Read from the sources, also when this runs from dist/.
 */
export function chartValidatorHash(): string {
  const candidates = [join(__dirname, '..', 'helm', 'validate'), join(__dirname, '..', '..', '..', 'infra', 'helm', 'validate')];
  const dir = candidates.find((candidate) => existsSync(join(candidate, 'main.go')));
  if (!dir) return 'missing-sources';
  const hash = createHash('sha256');
  for (const name of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(dir, name)));
  return hash.digest('hex').slice(0, 12);
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
