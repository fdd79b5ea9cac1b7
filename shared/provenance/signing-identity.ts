import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * The deployment's C2PA signing identity: a root (kept offline), an intermediate (kept offline, signs leaves) and a
 * signing leaf (the worker's key). C2PA validators (c2pa-rs) refuse a leaf unless it is ES256 on P-256 with
 * `basicConstraints CA:FALSE`, a critical `keyUsage digitalSignature`, an EKU of emailProtection or
 * documentSigning, and subject and authority key ids (../shared/RECIPES.md "Signed provenance"). The same checks
 * are applied to an organisation's own chain on import, so a bad chain is refused here, not at the first release.
 *
 * Files (PEM): root-cert.pem (public: the trust anchor the verifier pins), root-key.pem and intermediate-key.pem
 * (offline), intermediate-cert.pem, signing-chain.pem (leaf then intermediate) and signing-key.pem (PKCS#8, the
 * worker's secret: C2PA_SIGNING_KEY_FILE).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';
const DAY_MS = 24 * 3600 * 1000;

export interface SigningIdentityNames {
  /** The organisation that signs (the federation or campaign): the certificate's O, shown by C2PA readers. */
  organisation: string;
  /** Two-letter country of the organisation (certificate C), optional. */
  country?: string;
}

export interface LeafFiles {
  /** Leaf then intermediate, PEM. */
  chainPem: string;
  /** The leaf's private key, PKCS#8 PEM. */
  keyPem: string;
}

export interface CaFiles {
  rootCertPem: string;
  rootKeyPem: string;
  intermediateCertPem: string;
  intermediateKeyPem: string;
}

export type SigningIdentity = CaFiles & LeafFiles;

function nameOf(names: SigningIdentityNames, commonName: string): string {
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, '\\$1');
  const parts = [`CN=${escape(commonName)}`, `O=${escape(names.organisation)}`];
  if (names.country) parts.push(`C=${escape(names.country)}`);
  return parts.join(', ');
}

function serial(): string {
  // A positive 128-bit serial (the top bit cleared so DER does not read it as negative).
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(pem)[0]!, ALGORITHM, true, ['sign']);
}

/** A new root, intermediate and signing leaf. The leaf is valid for `leafDays` (default 2 years; rotate before). */
export async function createSigningIdentity(names: SigningIdentityNames, now = new Date(), leafDays = 730): Promise<SigningIdentity> {
  const rootKeys = await keyPair();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: nameOf(names, `${names.organisation} provenance root`),
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 20 * 365 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys: rootKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const intermediateKeys = await keyPair();
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: nameOf(names, `${names.organisation} provenance intermediate`),
    issuer: root.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 10 * 365 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: intermediateKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  const ca: CaFiles = {
    rootCertPem: root.toString('pem'),
    rootKeyPem: await privateKeyPem(rootKeys.privateKey),
    intermediateCertPem: intermediate.toString('pem'),
    intermediateKeyPem: await privateKeyPem(intermediateKeys.privateKey),
  };
  return { ...ca, ...(await issueLeaf(ca, names, now, leafDays)) };
}

/** A new signing leaf from the (offline) intermediate: rotation. The old leaf's signatures stay valid. */
export async function issueLeaf(ca: Pick<CaFiles, 'intermediateCertPem' | 'intermediateKeyPem'>, names: SigningIdentityNames, now = new Date(), days = 730): Promise<LeafFiles> {
  const intermediate = new x509.X509Certificate(ca.intermediateCertPem);
  const intermediateKey = await importPrivateKey(ca.intermediateKeyPem);
  const leafKeys = await keyPair();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: nameOf(names, `${names.organisation} release signing ${now.toISOString().slice(0, 10)}`),
    issuer: intermediate.subject,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(Math.min(now.getTime() + days * DAY_MS, intermediate.notAfter.getTime())),
    signingAlgorithm: ALGORITHM,
    publicKey: leafKeys.publicKey,
    signingKey: intermediateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([EMAIL_PROTECTION, DOCUMENT_SIGNING], false),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(intermediate),
    ],
  });
  return { chainPem: leaf.toString('pem') + '\n' + intermediate.toString('pem') + '\n', keyPem: await privateKeyPem(leafKeys.privateKey) };
}

export interface ChainCheck {
  /** The signer as C2PA readers show it: the leaf's O (and CN). */
  organisation: string | null;
  commonName: string | null;
  notAfter: Date;
}

/**
 * Checks a chain and key before they are used (import, and the worker at start-up): the key is the leaf's, the
 * leaf has what C2PA demands, each certificate is signed by the next, and the last one by a given root when one
 * is given. Throws an Error saying what is wrong.
 */
export async function checkSigningChain(chainPem: string, keyPem: string, rootPem?: string, now = new Date()): Promise<ChainCheck> {
  let certs: x509.X509Certificate[];
  try {
    certs = x509.PemConverter.decode(chainPem).map((der) => new x509.X509Certificate(der));
  } catch (error) {
    throw new Error(`the signing chain is not PEM certificates: ${(error as Error).message}`, { cause: error });
  }
  if (certs.length < 2) throw new Error('the signing chain must hold the signing certificate and then its intermediate (at least two certificates); a self-signed leaf is refused by C2PA validators');
  const leaf = certs[0]!;
  const algorithm = leaf.publicKey.algorithm as EcKeyAlgorithm;
  if (algorithm.name !== 'ECDSA' || algorithm.namedCurve !== 'P-256') throw new Error('the signing certificate must have an ES256 key (ECDSA on P-256)');
  let key: CryptoKey;
  try {
    key = await importPrivateKey(keyPem);
  } catch (error) {
    throw new Error(`the signing key is not a PKCS#8 P-256 private key: ${(error as Error).message}`, { cause: error });
  }
  const probe = Buffer.from('solidarity-clips key check');
  const signature = await webcrypto.subtle.sign(ALGORITHM, key, probe);
  if (!(await webcrypto.subtle.verify(ALGORITHM, await leaf.publicKey.export(ALGORITHM, ['verify']), signature, probe))) {
    throw new Error('the signing key does not belong to the first certificate of the chain');
  }
  const basic = leaf.getExtension(x509.BasicConstraintsExtension);
  if (!basic || basic.ca) throw new Error('the signing certificate must have basicConstraints CA:FALSE');
  const usage = leaf.getExtension(x509.KeyUsagesExtension);
  if (!usage || !usage.critical || !(usage.usages & x509.KeyUsageFlags.digitalSignature)) throw new Error('the signing certificate must have a critical keyUsage with digitalSignature');
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku || !eku.usages.some((u) => u === EMAIL_PROTECTION || u === DOCUMENT_SIGNING)) throw new Error('the signing certificate must have the extended key usage emailProtection or documentSigning (1.3.6.1.5.5.7.3.36)');
  if (!leaf.getExtension(x509.SubjectKeyIdentifierExtension) || !leaf.getExtension(x509.AuthorityKeyIdentifierExtension)) throw new Error('the signing certificate must have subject and authority key identifiers');
  if (leaf.notAfter.getTime() <= now.getTime()) throw new Error(`the signing certificate expired on ${leaf.notAfter.toISOString()}: issue a new leaf (provenance rotate)`);
  if (leaf.notBefore.getTime() > now.getTime()) throw new Error(`the signing certificate is not valid before ${leaf.notBefore.toISOString()}`);
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!(await certs[i]!.verify({ publicKey: certs[i + 1]!.publicKey, signatureOnly: true }))) throw new Error(`certificate ${i + 1} of the chain is not signed by certificate ${i + 2}: the chain must be leaf first, then its issuers`);
  }
  if (rootPem) {
    const root = new x509.X509Certificate(rootPem);
    if (!(await certs[certs.length - 1]!.verify({ publicKey: root.publicKey, signatureOnly: true }))) throw new Error('the chain does not lead to the given root certificate');
  }
  const subject = new x509.Name(leaf.subject);
  return { organisation: subject.getField('O')[0] ?? null, commonName: subject.getField('CN')[0] ?? null, notAfter: leaf.notAfter };
}

/** The files `provenance init` writes, by name (see the top of this file). */
export const IDENTITY_FILES = {
  rootCert: 'root-cert.pem',
  rootKey: 'root-key.pem',
  intermediateCert: 'intermediate-cert.pem',
  intermediateKey: 'intermediate-key.pem',
  chain: 'signing-chain.pem',
  key: 'signing-key.pem',
} as const;
