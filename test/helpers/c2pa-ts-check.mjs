/**
 * An independent C2PA check (@trustnxt/c2pa-ts, pure TypeScript, ES modules only: run as its own process):
 *   node test/helpers/c2pa-ts-check.mjs <file> <root-cert.pem>
 * prints one JSON line: whether the manifest validates, its status codes, whether the signer's chain leads to the
 * pinned root (c2pa-ts does not check trust itself), the signer's subject and the assertion labels.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BMFF, JPEG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore } from '@trustnxt/c2pa-ts/manifest';

BMFF.canReadBrands.add('isom');
BMFF.canReadBrands.add('mp42');
const [file, rootFile] = process.argv.slice(2);
const bytes = await readFile(file);
const asset = JPEG.canRead(bytes) ? new JPEG(bytes) : BMFF.canRead(bytes) ? new BMFF(bytes) : null;
const jumbf = asset?.getManifestJUMBF();
if (!asset || !jumbf) {
  process.stdout.write(`${JSON.stringify({ manifest: false })}\n`);
} else {
  const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
  const result = await store.validate(asset);
  const manifest = store.getActiveManifest();
  const data = manifest.signature.signatureData;
  const chain = [data.certificate, ...(data.chainCertificates ?? [])].map((c) => new X509Certificate(Buffer.from(c.rawData)));
  const root = new X509Certificate(await readFile(rootFile));
  let linked = true;
  for (let i = 0; i + 1 < chain.length; i++) linked &&= chain[i].verify(chain[i + 1].publicKey);
  const pinned = linked && chain[chain.length - 1].verify(root.publicKey);
  process.stdout.write(`${JSON.stringify({
    manifest: true,
    valid: result.isValid,
    codes: result.statusEntries.map((e) => e.code),
    pinned,
    subject: chain[0].subject,
    labels: manifest.assertions.assertions.map((a) => a.label),
  })}\n`);
}
