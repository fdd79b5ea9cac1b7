import { open, rename } from 'node:fs/promises';
import { Builder, LocalSigner, Reader } from '@contentauth/c2pa-node';
import type { ManifestDefinition } from '../../shared/provenance/release-manifest';
import { RELEASE_ASSERTION } from '../../shared/provenance/release-manifest';

/**
 * C2PA signing and reading: the only module that loads c2pa-node (c2pa-rs). Signing writes the manifest into the
 * file in place of nothing it had (ftyp → uuid(manifest) → moov → mdat: faststart is kept, the packets are the
 * same); reading validates the manifest, the file's hashes and the signer's chain against the deployment's root.
 */

export interface SigningKey {
  /** Leaf then intermediate, PEM. */
  chainPem: string;
  /** The leaf's PKCS#8 key, PEM. */
  keyPem: string;
}

/** Signs `path` with the manifest, in place (through a sibling file, renamed over it once complete). */
export async function signFile(path: string, manifest: ManifestDefinition, key: SigningKey): Promise<void> {
  const signer = LocalSigner.newSigner(Buffer.from(key.chainPem), Buffer.from(key.keyPem), 'es256');
  // No claim thumbnail: the manifest describes the file, it does not carry a second copy of its picture.
  const builder = Builder.withJson(manifest as never, { builder: { thumbnail: { enabled: false } } } as never);
  const signed = `${path}.signed${path.slice(path.lastIndexOf('.'))}`;
  builder.sign(signer, { path }, { path: signed });
  await rename(signed, path);
}

export type ProvenanceReading =
  /** No C2PA manifest in the file (most copies from social media: platforms strip it). */
  | { kind: 'none' }
  /** A manifest whose file hashes and signature hold. `trusted`: its chain leads to this deployment's root. */
  | { kind: 'intact'; trusted: boolean; signer: Signer; release: Record<string, unknown> | null }
  /** A manifest whose signature holds but the file changed after signing (a hash no longer matches). */
  | { kind: 'changed'; trusted: boolean; signer: Signer; release: Record<string, unknown> | null; codes: string[] }
  /** A manifest that cannot be validated (broken signature, unreadable manifest). */
  | { kind: 'invalid'; codes: string[] };

export interface Signer {
  organisation: string | null;
  commonName: string | null;
}

interface StatusEntry {
  code: string;
}

interface ManifestJson {
  active_manifest?: string;
  validation_state?: string;
  validation_status?: StatusEntry[];
  manifests?: Record<string, { signature_info?: { issuer?: string; common_name?: string }; assertions?: { label: string; data: Record<string, unknown> }[] }>;
}

/** The file's type from its first bytes (never its name): JPEG, or ISO BMFF (MP4, MOV); null for anything else. */
async function sniffType(path: string): Promise<string | null> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (head[0] === 0xff && head[1] === 0xd8) return 'image/jpeg';
    if (head.subarray(4, 8).toString('latin1') === 'ftyp') return head.subarray(8, 12).toString('latin1') === 'qt  ' ? 'video/quicktime' : 'video/mp4';
    return null;
  } finally {
    await handle.close();
  }
}

const CHANGED = /^assertion\.(bmffHash|dataHash|boxesHash|collectionHash)\.mismatch$/;
const UNTRUSTED = /^signingCredential\.(untrusted|invalid)$/;

/**
 * Reads and validates the file's manifest with the deployment's root as the only trust anchor. Throws only when
 * the file cannot be read at all; a broken manifest is `invalid`.
 */
export async function readProvenance(path: string, trustAnchorPem: string): Promise<ProvenanceReading> {
  const mimeType = await sniffType(path);
  if (!mimeType) return { kind: 'none' };
  let reader: Awaited<ReturnType<typeof Reader.fromAsset>>;
  try {
    reader = await Reader.fromAsset({ path, mimeType }, { verify: { verify_trust: true }, trust: { trust_anchors: trustAnchorPem } } as never);
  } catch (error) {
    const message = (error as Error).message ?? '';
    if (/JumbfNotFound|no JUMBF|not found|ManifestNotFound/i.test(message)) return { kind: 'none' };
    if (/UnsupportedType|unsupported/i.test(message)) return { kind: 'none' };
    return { kind: 'invalid', codes: [message.slice(0, 200)] };
  }
  if (!reader) return { kind: 'none' };
  const json = reader.json() as unknown as ManifestJson;
  const active = json.active_manifest ? json.manifests?.[json.active_manifest] : undefined;
  if (!active) return { kind: 'invalid', codes: ['no active manifest'] };
  const codes = (json.validation_status ?? []).map((s) => s.code);
  const signer: Signer = { organisation: active.signature_info?.issuer ?? null, commonName: active.signature_info?.common_name ?? null };
  const release = active.assertions?.find((a) => a.label === RELEASE_ASSERTION)?.data ?? null;
  const trusted = json.validation_state === 'Trusted';
  const changed = codes.filter((c) => CHANGED.test(c));
  if (changed.length > 0) return { kind: 'changed', trusted: !codes.some((c) => UNTRUSTED.test(c)), signer, release, codes };
  if (json.validation_state === 'Trusted' || json.validation_state === 'Valid') return { kind: 'intact', trusted, signer, release };
  return { kind: 'invalid', codes };
}
