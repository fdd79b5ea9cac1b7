import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { LANGUAGE_CODE, LANGUAGE_CODE_LIMITS } from '../../shared/captions/caption-versions';
import { stripXmlForbidden } from '../../shared/text/hostile-text';
import type { SubmissionInput } from '../services/submission.service';
import { protectionFromFields } from '../../shared/protection/protection';

/**
 * The fields of a submission, as both upload routes receive them (multipart form fields, or tus
 * Upload-Metadata): one schema, one parser, the same errors.
 */

// Control characters other than tab and newline, and bidi overrides, never belong in a title or a message.
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function text(min: number, max: number) {
  return z
    .string()
    .transform((value) => stripXmlForbidden(value.normalize('NFC').replace(CONTROL_CHARS, '')).trim())
    .pipe(z.string().min(min, min === 1 ? 'required' : `at least ${min} characters`).max(max, `at most ${max} characters`));
}

/** A form checkbox or an API flag: "true"/"on" is yes; "false", empty or absent is no. */
function checkbox() {
  return z
    .enum(['true', 'false', 'on', ''])
    .optional()
    .transform((value) => value === 'true' || value === 'on');
}

const consentSchema = z
  .object({
    version: z.number().int().positive(),
    language: z.string().regex(LANGUAGE_CODE, `a language code such as "be" or "en" (${LANGUAGE_CODE_LIMITS})`),
    statements: z.array(z.string().max(40)).max(20),
  })
  .strict();

const fieldsSchema = z
  .object({
    campaign: z.string().trim().min(1, 'required').max(64),
    // Filled in from a union's link when `link` is given (see createSubmission).
    organisation: text(1, 200).optional(),
    country: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'a two-letter country code (ISO 3166-1), e.g. "BY"')
      .optional(),
    link: z.string().regex(/^[\w-]{16,64}$/, 'a union link token').optional(),
    language: z.string().trim().regex(LANGUAGE_CODE, `a language code such as "be", "ru", "uk" or "en" (${LANGUAGE_CODE_LIMITS})`),
    title: text(1, 140),
    message: text(0, 2000).default(''),
    contactEmail: z
      .string()
      .trim()
      .max(254)
      .transform((value) => (value === '' ? null : value))
      .pipe(z.email('not a valid email address').nullable())
      .optional()
      .transform((value) => value ?? null),
    /** The old single switch: "hide my face and disguise my voice" (shared/protection/protection.ts). */
    protection: checkbox(),
    /** Identity protection, any combination: faces covered, voice disguised, the picture replaced by the campaign's card. */
    protectFace: checkbox(),
    protectVoice: checkbox(),
    protectCard: checkbox(),
    consent: z
      .string()
      .transform((value, ctx) => {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON: {"version":1,"language":"en","statements":["…"]}' });
          return z.NEVER;
        }
      })
      .pipe(consentSchema),
    // The honeypot: a field people never see (the campaign page hides it); a form that fills it is a bot's.
    website: z.string().max(500).optional(),
  })
  .strict()
  .superRefine((fields, ctx) => {
    if (fields.link) return;
    if (fields.organisation === undefined) ctx.addIssue({ code: 'custom', path: ['organisation'], message: 'required' });
    if (fields.country === undefined) ctx.addIssue({ code: 'custom', path: ['country'], message: 'required' });
  });

export function parseFields(body: unknown): SubmissionInput {
  const fields = (body ?? {}) as Record<string, unknown>;
  if (fields.consent === undefined || fields.consent === '') {
    throw new AppError('consent_missing', 400, 'Consent is required: please read the consent text and agree to it before sending.');
  }
  const parsed = fieldsSchema.safeParse(fields);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({
      field: issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : ''),
      message: issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message,
    }));
    throw new AppError('invalid_fields', 400, 'Some fields are missing or not valid.', { details: { errors } });
  }
  const { website, organisation, country, link, protection, protectFace, protectVoice, protectCard, ...rest } = parsed.data;
  const input: SubmissionInput = {
    ...rest,
    organisation: organisation ?? '',
    country: country ?? '',
    ...(link ? { link } : {}),
    protection: protectionFromFields({ protection, protectFace, protectVoice, protectCard }),
  };
  if (website !== undefined && website.trim() !== '') {
    throw new AppError('rejected', 400, 'The form could not be accepted.');
  }
  return input;
}

