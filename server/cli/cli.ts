import { readFile } from 'node:fs/promises';
import { Types } from 'mongoose';
import { loadConfig, type Config } from '../../shared/config';
import { SUBMISSION_STATES, type SubmissionState } from '../../shared/submissions/submission-states';
import { requeue } from '../../shared/submissions/processing';
import type { Submission } from '../../shared/submissions/submission.model';
import { connectCoreServices, type CoreServices } from '../../shared/startup-checks';
import { appendAudit, verifyAudit } from '../services/audit.service';
import { backup, restore, type ObjectsMode } from '../services/backup.service';
import { rebuildReportTallies } from '../services/report-dashboard.service';
import { adminCampaignView, listCampaigns, publishConsentVersion, setCampaignLogo, updateCampaign } from '../services/campaign-admin.service';
import { CLI_ACTOR, createCampaign, createUnionLink, findCampaign, publicCampaign, revokeUnionLink } from '../services/campaign.service';
import { clearBranding, setBranding } from '../services/release-branding.service';
import { createSessionStore } from '../services/session.service';
import { createAdmin, resetTotp, unlockAccount } from '../services/staff.service';
import { readSecret } from './read-secret';
import { join } from 'node:path';
import { IDENTITY_FILES, type ChainCheck } from '../../shared/provenance/signing-identity';
import { importSigningFiles, initSigningFolder, loadSigning, rotateSigningLeaf } from '../../shared/provenance/signing-files';

/**
 * The operator's command line (until the moderators' web pages exist):
 *   npm run cli -- campaigns create <campaign.json>    (format: infra/local/demo-campaign.json)
 *   npm run cli -- campaigns list
 *   npm run cli -- campaigns show <campaign>           (everything about it, as JSON)
 *   npm run cli -- campaigns update <campaign> <change.json>   (only the fields given change)
 *   npm run cli -- campaigns consent <campaign> <consent.json> (publishes a new consent version)
 *   npm run cli -- campaigns logo <campaign> <image>   (PNG, JPEG or WebP)
 *   npm run cli -- campaigns open|close <campaign>
 *   npm run cli -- campaigns link <campaign> <organisation> <country>      (a union's own upload link)
 *   npm run cli -- campaigns revoke-link <campaign> <link id>
  npm run cli -- reports rebuild-tallies <campaign>            (recounts the action reports' tallies from the approved ones)
 *   npm run cli -- campaigns set-watermark <campaign> <logo.png>          (release renders: a logo in a corner)
 *   npm run cli -- campaigns set-end-card <campaign> <card.png> [seconds] (release renders: a still at the end, 3 s)
 *   npm run cli -- campaigns clear-watermark|clear-end-card <campaign>
 *   npm run cli -- submissions list [--state <state>] [--limit <n>]
 *   npm run cli -- submissions show <id>               (state, media, reasons, outputs with 1-hour links)
 *   npm run cli -- submissions requeue <id>            (a failed or stuck submission is processed again)
 *   npm run cli -- staff create-admin <email>          (the first admin; password from a prompt or stdin, never an argument)
 *   npm run cli -- staff list
 *   npm run cli -- staff reset-2fa <email>             (a lost phone; ends that person's sessions)
 *   npm run cli -- staff unlock <email>                (ends a lockout after wrong passwords or codes)
 *   npm run cli -- audit verify                        (checks the audit log's hash chain; exit 1 when broken)
 *   npm run cli -- reports rebuild-tallies <campaign>  (recounts the action reports' tallies from the approved reports)
 *   npm run cli -- provenance init <folder> <organisation> [country]   (a new C2PA signing identity: root, intermediate, leaf)
 *   npm run cli -- provenance rotate <folder> <organisation> [country] (a new signing leaf from the folder's intermediate)
 *   npm run cli -- provenance import <folder> <chain.pem> <key.pem> <root.pem> (an organisation's own chain, checked)
 *   npm run cli -- provenance check                    (the worker's C2PA_SIGNING_* files: do they load and sign?)
 *   npm run cli -- backup --out <folder> [--objects copy|list]   (every collection, and the bucket's objects copied or listed)
 *   npm run cli -- restore --from <folder> [--dry-run]  (into an empty database and bucket; checks everything first)
 * Contact details are never printed.
 */
export const USAGE = `usage:
  npm run cli -- campaigns create <campaign.json>
  npm run cli -- campaigns list
  npm run cli -- campaigns show <campaign>
  npm run cli -- campaigns update <campaign> <change.json>     (only the fields given change)
  npm run cli -- campaigns consent <campaign> <consent.json>   (publishes a new consent version)
  npm run cli -- campaigns logo <campaign> <image.png|jpg|webp>
  npm run cli -- campaigns open <campaign>
  npm run cli -- campaigns close <campaign>
  npm run cli -- campaigns link <campaign> <organisation> <country>
  npm run cli -- campaigns revoke-link <campaign> <link id>
  npm run cli -- campaigns set-watermark <campaign> <logo.png>
  npm run cli -- campaigns set-end-card <campaign> <card.png> [seconds]
  npm run cli -- campaigns clear-watermark <campaign>
  npm run cli -- campaigns clear-end-card <campaign>
  npm run cli -- submissions list [--state ${SUBMISSION_STATES.join('|')}] [--limit N]
  npm run cli -- submissions show <id>
  npm run cli -- submissions requeue <id>
  npm run cli -- staff create-admin <email>     (the password is asked for, or read from standard input)
  npm run cli -- staff list
  npm run cli -- staff reset-2fa <email>        (a lost phone: the next login sets up a new second factor)
  npm run cli -- staff unlock <email>           (ends a lockout after wrong passwords or codes, from every address)
  npm run cli -- audit verify
  npm run cli -- provenance init <folder> <organisation> [country]
  npm run cli -- provenance rotate <folder> <organisation> [country]
  npm run cli -- provenance import <folder> <chain.pem> <key.pem> <root.pem>
  npm run cli -- provenance check
  npm run cli -- backup --out <new folder> [--objects copy|list]   (copy, the default: the objects too; list: their SHA-256 only, for a replicated bucket)
  npm run cli -- restore --from <folder> [--dry-run]   (into an empty database and bucket; --dry-run checks the backup and the target only)
`;

const LINK_SECONDS = 3600;

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function readJson(file: string): Promise<never> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as never;
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function findSubmission(services: CoreServices, id: string | undefined): Promise<Submission> {
  if (!id || !Types.ObjectId.isValid(id)) throw new Error('give a submission id (24 hexadecimal characters)');
  const submission = await services.db.submissions.findById(id).lean<Submission>();
  if (!submission) throw new Error(`no submission ${id}`);
  return submission;
}

export async function runCli(
  args: string[],
  services: CoreServices,
  out: (line: string) => void,
  options: { askSecret?: (prompt: string) => Promise<string>; config?: Readonly<Config> } = {},
): Promise<number> {
  const config = options.config ?? loadConfig();
  const askSecret = options.askSecret ?? readSecret;
  const [area, command, ...rest] = args;
  const { db, storage, queue } = services;

  if (area === 'campaigns' && command === 'create' && rest[0]) {
    const campaign = await createCampaign(db, await readJson(rest[0]), new Date(), CLI_ACTOR);
    out(`created campaign "${campaign.slug}" (${campaign.languages.join(', ')})`);
    return 0;
  }
  if (area === 'reports' && command === 'rebuild-tallies' && rest[0]) {
    const { reports } = await rebuildReportTallies(db, rest[0], new Date(), CLI_ACTOR);
    out(`recounted the tallies of "${rest[0]}" from ${reports} approved reports`);
    return 0;
  }
  if (area === 'campaigns' && command === 'show' && rest[0]) {
    out(JSON.stringify(adminCampaignView(await findCampaign(db, rest[0]), new Date()), null, 2));
    return 0;
  }
  if (area === 'campaigns' && command === 'update' && rest[0] && rest[1]) {
    const campaign = await updateCampaign(db, rest[0], await readJson(rest[1]), new Date(), CLI_ACTOR);
    out(`updated campaign "${campaign.slug}"`);
    return 0;
  }
  if (area === 'campaigns' && (command === 'open' || command === 'close') && rest[0]) {
    const campaign = await updateCampaign(db, rest[0], { status: command === 'open' ? 'open' : 'closed' }, new Date(), CLI_ACTOR);
    out(`campaign "${campaign.slug}" is ${campaign.status}`);
    return 0;
  }
  if (area === 'campaigns' && command === 'consent' && rest[0] && rest[1]) {
    // The file is the new version's texts (a list, as "consent" in a campaign file) or { "consent": [...] }.
    const json = await readJson(rest[1]);
    const version = await publishConsentVersion(db, rest[0], Array.isArray(json) ? { consent: json } : json, new Date(), CLI_ACTOR);
    out(`published consent version ${version.version} of "${rest[0]}" (${version.texts.map((t) => t.language).join(', ')})`);
    return 0;
  }
  if (area === 'campaigns' && command === 'logo' && rest[0] && rest[1]) {
    const logo = await setCampaignLogo(services, rest[0], await readFile(rest[1]), new Date(), CLI_ACTOR);
    out(`logo of "${rest[0]}" set: ${logo.contentType}, ${logo.width}×${logo.height}, ${logo.bytes} bytes (metadata removed)`);
    return 0;
  }
  if (area === 'campaigns' && command === 'link' && rest[0] && rest[1] && rest[2]) {
    const link = await createUnionLink(db, rest[0], { organisation: rest[1], country: rest[2] }, new Date(), CLI_ACTOR);
    out(`link ${link.id} for ${rest[1]} (${rest[2].toUpperCase()}): ${link.path}`);
    return 0;
  }
  if (area === 'campaigns' && command === 'revoke-link' && rest[0] && rest[1]) {
    await revokeUnionLink(db, rest[0], rest[1], new Date(), CLI_ACTOR);
    out(`link ${rest[1]} of "${rest[0]}" revoked`);
    return 0;
  }
  if (area === 'campaigns' && (command === 'set-watermark' || command === 'set-end-card') && rest[0] && rest[1]) {
    const asset = command === 'set-watermark' ? 'watermark' : 'end-card';
    const release = await setBranding({ db, storage }, rest[0], asset, await readFile(rest[1]), { seconds: rest[2] === undefined ? undefined : Number(rest[2]) });
    out(`${asset} of "${rest[0]}" set${asset === 'end-card' ? ` (${release.endCardSeconds} s)` : ''}: clips released from now on carry it`);
    return 0;
  }
  if (area === 'campaigns' && (command === 'clear-watermark' || command === 'clear-end-card') && rest[0]) {
    await clearBranding({ db, storage }, rest[0], command === 'clear-watermark' ? 'watermark' : 'end-card');
    out(`${command === 'clear-watermark' ? 'watermark' : 'end card'} of "${rest[0]}" removed`);
    return 0;
  }
  if (area === 'campaigns' && command === 'list') {
    for (const campaign of await listCampaigns(db)) {
      const view = publicCampaign(campaign, new Date());
      out(`${view.slug}\t${view.open ? 'open' : 'closed'}\t${view.languages.join(',')}\t${view.name}`);
    }
    return 0;
  }
  if (area === 'submissions' && command === 'list') {
    const state = option(rest, '--state') as SubmissionState | undefined;
    if (state && !SUBMISSION_STATES.includes(state)) throw new Error(`unknown state "${state}"`);
    const limit = Number(option(rest, '--limit') ?? 50);
    const found = await db.submissions
      .find(state ? { status: state } : {})
      .sort({ createdAt: -1 })
      .limit(limit)
      .select({ status: 1, createdAt: 1, country: 1, language: 1, title: 1, 'processing.progress': 1 })
      .lean<Submission[]>();
    for (const s of found) {
      out(`${s._id.toHexString()}\t${s.status}${s.status === 'processing' ? ` ${s.processing.progress}%` : ''}\t${s.createdAt.toISOString()}\t${s.country}\t${s.language}\t${s.title}`);
    }
    if (found.length === 0) out('no submissions');
    return 0;
  }
  if (area === 'submissions' && command === 'show') {
    const s = await findSubmission(services, rest[0]);
    const links: Record<string, string> = {};
    for (const [name, object] of Object.entries(s.outputs ?? {})) links[name] = await storage.signedGetUrl(object.key, LINK_SECONDS);
    const { contactEmail: _contact, statusTokenHash: _hash, ...shown } = s;
    out(JSON.stringify({ ...shown, job: await queue.jobState(s._id.toHexString()), links, linksExpireInSeconds: LINK_SECONDS }, null, 2));
    return 0;
  }
  if (area === 'submissions' && command === 'requeue') {
    const s = await findSubmission(services, rest[0]);
    await requeue(db.submissions, s._id, { by: 'operator', reason: 'requeued from the command line' });
    if (s.status !== 'received') await appendAudit(db, { actor: CLI_ACTOR, action: 'submission_requeued', target: { kind: 'submission', id: s._id.toHexString() }, details: { from: s.status } }, new Date());
    await queue.enqueue('process-submission', { submissionId: s._id.toHexString() }, { replace: true });
    out(`requeued ${s._id.toHexString()}`);
    return 0;
  }
  if (area === 'staff' && command === 'create-admin' && rest[0]) {
    const password = await askSecret(`password for ${rest[0]} (at least 12 characters): `);
    const admin = await createAdmin(db, config.staff, rest[0], password, new Date());
    out(`created admin ${admin.email}: log in at /staff/login and set up the second factor`);
    return 0;
  }
  if (area === 'staff' && command === 'reset-2fa' && rest[0]) {
    const user = await resetTotp(db, rest[0], new Date());
    const sessions = createSessionStore(services.redis, { prefix: config.redis.queuePrefix, idleSeconds: config.staff.sessionIdleSeconds, absoluteSeconds: config.staff.sessionAbsoluteSeconds });
    await sessions.destroyAllOf(user._id.toHexString());
    out(`second factor of ${user.email} reset: their sessions are ended, and the next login sets up a new one`);
    return 0;
  }
  if (area === 'staff' && command === 'unlock' && rest[0]) {
    const user = await unlockAccount(db, CLI_ACTOR, { email: rest[0] }, new Date());
    out(`${user.email} unlocked: they can log in again from every address`);
    return 0;
  }
  if (area === 'staff' && command === 'list') {
    for (const user of await db.staffUsers.find().lean()) {
      out(`${user.email}\t${user.role}\t${user.campaigns.join(',') || 'all campaigns'}\t${user.totp.secret ? '2fa' : 'no 2fa'}${user.disabled ? '\tdisabled' : ''}`);
    }
    return 0;
  }
  if (area === 'audit' && command === 'verify') {
    const verdict = await verifyAudit(db);
    if (verdict.ok) {
      out(`audit log intact: ${verdict.entries} entries, last hash ${verdict.lastHash}`);
      return 0;
    }
    out(`audit log BROKEN at entry ${verdict.badSeq}: ${verdict.problem} (${verdict.entries} entries before it verify)`);
    return 1;
  }
  if (area === 'backup' && option(args, '--out')) {
    const mode = option(args, '--objects') ?? 'copy';
    if (mode !== 'copy' && mode !== 'list') throw new Error(`--objects is copy or list, not "${mode}"`);
    const result = await backup({ db, storage }, { out: option(args, '--out')!, objects: mode as ObjectsMode, actor: CLI_ACTOR, log: out });
    const { manifest } = result;
    const documents = manifest.collections.reduce((n, c) => n + c.documents, 0);
    out(`backup written to ${option(args, '--out')}: ${manifest.collections.length} collections (${documents} documents), ${manifest.objects.count} objects (${manifest.objects.totalBytes} bytes) ${mode === 'copy' ? `copied (${result.blobs} distinct contents)` : 'listed with their SHA-256, not copied'}`);
    out(`manifest SHA-256 ${result.manifestSha256} (note it apart from the backup)`);
    out('not in the backup: AUDIT_HMAC_KEY and TOTP_ENCRYPTION_KEY (a restore needs the same keys: keep them with your secrets), and Redis (the queue is rebuilt from the database)');
    return 0;
  }
  if (area === 'restore' && option(args, '--from')) {
    const dryRun = args.includes('--dry-run');
    const result = await restore({ db, storage }, { from: option(args, '--from')!, actor: CLI_ACTOR, dryRun, log: out });
    if (dryRun) {
      out(`dry run: the backup is intact and the target is ready (${result.manifest.objects.mode === 'copy' ? 'empty database and bucket' : 'empty database, every listed object in the bucket'}); nothing was written`);
      return 0;
    }
    const documents = result.collections.reduce((n, c) => n + c.documents, 0);
    out(`restored ${result.collections.length} collections (${documents} documents) into "${db.connection.name}"`);
    out(result.manifest.objects.mode === 'copy'
      ? `objects: ${result.objects.uploaded} uploaded into "${storage.bucket}", ${result.objects.verified} read back with their SHA-256`
      : `objects: ${result.objects.count} checked in "${storage.bucket}" (a listed-only backup: the bucket is the replica)`);
    if (result.audit?.ok) out(`audit log intact: ${result.audit.entries} entries${result.audit.anchored ? ', signatures checked with AUDIT_HMAC_KEY' : ' (hashes only: AUDIT_HMAC_KEY is not set)'}; a backup_restored entry follows them`);
    if (result.totp && result.totp.sealed > 0 && result.totp.readable === result.totp.sealed) out(`staff second factors: all ${result.totp.sealed} open with TOTP_ENCRYPTION_KEY`);
    if (result.problems.length > 0) {
      for (const problem of result.problems) out(`PROBLEM: ${problem}`);
      out('restore finished WITH PROBLEMS (see above)');
      return 1;
    }
    out('restore complete: start the server and the workers (the reconciler queues again what was waiting, processing or being released)');
    return 0;
  }
  out(USAGE);
  return 2;
}

/**
 * The signing identity's commands: files only, no database (the private keys never go there). The root and
 * intermediate keys are for an offline place; only the signing chain and key go where the worker runs.
 */
export async function runProvenanceCli(args: string[], config: Readonly<Config>, out: (line: string) => void, now = new Date()): Promise<number> {
  const [, command, ...rest] = args;
  const describe = (check: ChainCheck) => `signer "${check.organisation ?? '?'}" (${check.commonName ?? '?'}), valid until ${check.notAfter.toISOString().slice(0, 10)}`;
  const names = () => ({ organisation: rest[1]!, country: rest[2]?.toUpperCase() });
  if (command === 'init' && rest[0] && rest[1]) {
    if (rest[2] && !/^[A-Za-z]{2}$/.test(rest[2])) throw new Error(`country "${rest[2]}" is not a two-letter code`);
    const check = await initSigningFolder(rest[0], names(), now);
    out(`signing identity made in ${rest[0]}: ${describe(check)}`);
    out(`  worker:  C2PA_SIGNING_CHAIN_FILE=${join(rest[0], IDENTITY_FILES.chain)} C2PA_SIGNING_KEY_FILE=${join(rest[0], IDENTITY_FILES.key)}`);
    out(`  trust:   C2PA_TRUST_ANCHOR_FILE=${join(rest[0], IDENTITY_FILES.rootCert)} (public; /verify shows it)`);
    out(`  offline: ${IDENTITY_FILES.rootKey} and ${IDENTITY_FILES.intermediateKey} — move them off this machine; rotate needs the intermediate's`);
    return 0;
  }
  if (command === 'rotate' && rest[0] && rest[1]) {
    const rotated = await rotateSigningLeaf(rest[0], names(), now);
    out(`new signing certificate: ${describe(rotated.check)}`);
    out(`  worker:  C2PA_SIGNING_CHAIN_FILE=${rotated.chainFile} C2PA_SIGNING_KEY_FILE=${rotated.keyFile} (then restart the workers)`);
    return 0;
  }
  if (command === 'import' && rest[0] && rest[1] && rest[2] && rest[3]) {
    const check = await importSigningFiles(rest[0], { chainFile: rest[1], keyFile: rest[2], rootFile: rest[3] }, now);
    out(`imported into ${rest[0]}: ${describe(check)}`);
    return 0;
  }
  if (command === 'check') {
    const loaded = await loadSigning(config.provenance, now);
    out(`signing files load: ${describe(loaded.check)}`);
    return 0;
  }
  out(USAGE);
  return 2;
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (process.argv[2] === 'provenance') {
    process.exitCode = await runProvenanceCli(process.argv.slice(2), config, (line) => process.stdout.write(`${line}\n`));
    return;
  }
  const services = await connectCoreServices(config);
  try {
    process.exitCode = await runCli(process.argv.slice(2), services, (line) => process.stdout.write(`${line}\n`), { config });
  } finally {
    await services.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`cli: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
