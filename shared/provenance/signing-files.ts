import { readFileSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkSigningChain, createSigningIdentity, IDENTITY_FILES, issueLeaf, type ChainCheck, type SigningIdentityNames } from './signing-identity';

/**
 * The signing identity on disk: `provenance init` writes a folder, `provenance rotate` writes a new leaf into it,
 * `provenance import` checks an organisation's own chain and key. Private keys are written readable by their
 * owner only (0600). The worker reads the chain and key (C2PA_SIGNING_CHAIN_FILE, C2PA_SIGNING_KEY_FILE) and
 * the root (C2PA_TRUST_ANCHOR_FILE) with `loadSigning`.
 */

/** What the worker signs with and trusts (WorkerDeps.signing). */
export interface SigningMaterial {
  chainPem: string;
  keyPem: string;
  trustAnchorPem: string;
}

export interface LoadedSigning extends SigningMaterial {
  check: ChainCheck;
}

/** The files as they are, unchecked (tests and benches, whose identity `initSigningFolder` just made). */
export function readSigningMaterial(files: { chainFile: string | null; keyFile: string | null; trustAnchorFile: string | null }): SigningMaterial {
  const { chainFile, keyFile, trustAnchorFile } = files;
  if (!chainFile || !keyFile || !trustAnchorFile) throw new Error('C2PA_SIGNING_CHAIN_FILE, C2PA_SIGNING_KEY_FILE and C2PA_TRUST_ANCHOR_FILE must be set');
  return { chainPem: readFileSync(chainFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8'), trustAnchorPem: readFileSync(trustAnchorFile, 'utf8') };
}

async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}

/** A new identity in an empty (or new) folder. Refuses a folder that already holds one. */
export async function initSigningFolder(dir: string, names: SigningIdentityNames, now = new Date()): Promise<ChainCheck> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const present = (await readdir(dir)).filter((name) => (Object.values(IDENTITY_FILES) as string[]).includes(name));
  if (present.length > 0) throw new Error(`${dir} already holds a signing identity (${present.join(', ')}): use "provenance rotate" for a new signing certificate`);
  const identity = await createSigningIdentity(names, now);
  await writeFile(join(dir, IDENTITY_FILES.rootCert), identity.rootCertPem, { flag: 'wx' });
  await writePrivate(join(dir, IDENTITY_FILES.rootKey), identity.rootKeyPem);
  await writeFile(join(dir, IDENTITY_FILES.intermediateCert), identity.intermediateCertPem, { flag: 'wx' });
  await writePrivate(join(dir, IDENTITY_FILES.intermediateKey), identity.intermediateKeyPem);
  await writeFile(join(dir, IDENTITY_FILES.chain), identity.chainPem, { flag: 'wx' });
  await writePrivate(join(dir, IDENTITY_FILES.key), identity.keyPem);
  return checkSigningChain(identity.chainPem, identity.keyPem, identity.rootCertPem, now);
}

/**
 * A new signing leaf from the folder's intermediate, written as `signing-chain-<date>.pem` and
 * `signing-key-<date>.pem` beside the old ones (the old leaf's signatures stay valid; point the worker's
 * C2PA_SIGNING_*_FILE at the new files and restart it). Returns the new files' paths.
 */
export async function rotateSigningLeaf(dir: string, names: SigningIdentityNames, now = new Date()): Promise<{ chainFile: string; keyFile: string; check: ChainCheck }> {
  const ca = {
    intermediateCertPem: await readFile(join(dir, IDENTITY_FILES.intermediateCert), 'utf8'),
    intermediateKeyPem: await readFile(join(dir, IDENTITY_FILES.intermediateKey), 'utf8'),
  };
  const leaf = await issueLeaf(ca, names, now);
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const chainFile = join(dir, `signing-chain-${stamp}.pem`);
  const keyFile = join(dir, `signing-key-${stamp}.pem`);
  const check = await checkSigningChain(leaf.chainPem, leaf.keyPem, await readFile(join(dir, IDENTITY_FILES.rootCert), 'utf8'), now);
  await writeFile(chainFile, leaf.chainPem, { flag: 'wx' });
  await writePrivate(keyFile, leaf.keyPem);
  return { chainFile, keyFile, check };
}

/** Reads and checks the worker's signing files; throws an Error saying which is missing or wrong. */
export async function loadSigning(files: { chainFile: string | null; keyFile: string | null; trustAnchorFile: string | null }, now = new Date()): Promise<LoadedSigning> {
  const missing = [
    files.chainFile ? null : 'C2PA_SIGNING_CHAIN_FILE',
    files.keyFile ? null : 'C2PA_SIGNING_KEY_FILE',
    files.trustAnchorFile ? null : 'C2PA_TRUST_ANCHOR_FILE',
  ].filter(Boolean);
  if (missing.length > 0) throw new Error(`releases are signed (C2PA), and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set: make a signing identity with "npm run cli -- provenance init <folder>" (or import your organisation's) and point these at its files`);
  const read = async (name: string, file: string) => readFile(file, 'utf8').catch((error: Error) => {
    throw new Error(`${name}: cannot read ${file}: ${error.message}`);
  });
  const chainPem = await read('C2PA_SIGNING_CHAIN_FILE', files.chainFile!);
  const keyPem = await read('C2PA_SIGNING_KEY_FILE', files.keyFile!);
  const trustAnchorPem = await read('C2PA_TRUST_ANCHOR_FILE', files.trustAnchorFile!);
  const check = await checkSigningChain(chainPem, keyPem, trustAnchorPem, now);
  return { chainPem, keyPem, trustAnchorPem, check };
}

/**
 * An organisation's own chain and key (from a C2PA-conformant CA, say), checked and copied into `dir` under the
 * names the worker's settings use. `rootFile`: the root the chain leads to (the trust anchor /verify pins).
 */
export async function importSigningFiles(dir: string, from: { chainFile: string; keyFile: string; rootFile: string }, now = new Date()): Promise<ChainCheck> {
  const chainPem = await readFile(from.chainFile, 'utf8');
  const keyPem = await readFile(from.keyFile, 'utf8');
  const rootPem = await readFile(from.rootFile, 'utf8');
  const check = await checkSigningChain(chainPem, keyPem, rootPem, now);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, IDENTITY_FILES.rootCert), rootPem, { flag: 'wx' });
  await writeFile(join(dir, IDENTITY_FILES.chain), chainPem, { flag: 'wx' });
  await writePrivate(join(dir, IDENTITY_FILES.key), keyPem);
  return check;
}
