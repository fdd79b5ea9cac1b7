import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { contribScript } from './contrib-script';
import { contribStyles } from './contrib-styles';
import { statusScript } from './status-script';
import { reportScript } from './report-script';

/**
 * The contributors' pages' assets, served by this server from memory (no CDN), each also gzipped once at
 * start. tus-js-client's browser bundle is read from node_modules here, so the page never asks another site.
 */
export interface ContribAsset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

function asset(body: string | Buffer, type: string): ContribAsset {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return { body: bytes, gzip: gzipSync(bytes, { level: 9 }), type, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 16)}"` };
}

const JS = 'text/javascript; charset=utf-8';

export const CONTRIB_ASSETS: Record<string, ContribAsset> = {
  'contrib.css': asset(contribStyles, 'text/css; charset=utf-8'),
  'contrib.js': asset(contribScript + statusScript + reportScript, JS),
  'tus.js': asset(readFileSync(require.resolve('tus-js-client/dist/tus.min.js')), JS),
};

export const CONTRIB_ASSET_PREFIX = '/c-assets/';

export function contribAssetUrl(name: string): string {
  return `${CONTRIB_ASSET_PREFIX}${name}?v=${CONTRIB_ASSETS[name]!.etag.slice(1, 9)}`;
}

/** Bytes over the wire (gzipped) of the assets a first visit loads. */
export function firstLoadAssetBytes(names: string[]): number {
  return names.reduce((sum, name) => sum + CONTRIB_ASSETS[name]!.gzip.length, 0);
}
