/**
 * The staff's JSON API in the OpenAPI document (server/openapi.ts merges it in), under /staff/api, with a
 * staff session cookie and, on every POST, the session's CSRF token in `X-CSRF-Token`: the admins' campaign
 * API and the social teams' gallery. test/integration/upload.test.ts checks that every route of the router
 * under /staff/api is described here.
 */
const problem = { $ref: '#/components/responses/Problem' };
const json = (ref: string) => ({ content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const slug = { name: 'slug', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' } };
const linkId = { name: 'linkId', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{12}$' } };
const security = [{ staffSession: [], csrfToken: [] }];
const refusals = { '400': problem, '401': problem, '403': problem, '404': problem };
const localised = { type: 'object', additionalProperties: { type: 'string' }, description: 'Per language: { "be": "…", "en": "…" }' };
const consentTexts = {
  type: 'array',
  description: 'A text per campaign language, the same statements (ids, grants, optional) in each',
  items: {
    type: 'object',
    required: ['language', 'statements'],
    properties: {
      language: { type: 'string' },
      statements: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'text'],
          properties: { id: { type: 'string' }, text: { type: 'string' }, grants: { type: 'array', items: { type: 'string', enum: ['social', 'web', 'events', 'press', 'credit'] } }, optional: { type: 'boolean' } },
        },
      },
    },
  },
};
const colour = { type: ['string', 'null'], pattern: '^#[0-9a-fA-F]{6}$', description: 'Refused when text on or under it would have less than 4.5:1 contrast' };
const changeFields = {
  name: { type: 'string', maxLength: 200 },
  titles: { ...localised, description: 'The page title per language (else the first language’s, else the name)' },
  prompts: { ...localised, description: 'What the campaign asks contributors for, per language' },
  languages: { type: 'array', items: { type: 'string' }, description: 'Each needs a text in the current consent version and in every rejection reason' },
  status: { type: 'string', enum: ['draft', 'open', 'closed'] },
  hashtags: { type: 'array', items: { type: 'string' } },
  opensAt: { type: ['string', 'null'], format: 'date-time' },
  closesAt: { type: ['string', 'null'], format: 'date-time' },
  accentColour: colour,
  backgroundColour: colour,
  checklistRequired: { type: 'boolean' },
};

/** Every change may also answer 409 campaign_busy: another change to the campaign held its lock for too long (campaign-lock.ts). */
export const campaignAdminPaths = {
  '/staff/api/campaigns': {
    get: { summary: 'Every campaign (admins)', security, responses: { '200': { description: 'the campaigns', content: { 'application/json': { schema: { type: 'object', properties: { campaigns: { type: 'array', items: { $ref: '#/components/schemas/AdminCampaign' } } } } } } }, '401': problem, '403': problem } },
    post: {
      summary: 'Create a campaign (consent version 1); audited',
      security,
      requestBody: { required: true, ...json('NewCampaign') },
      responses: { '201': { description: 'created', ...json('AdminCampaign') }, ...refusals, '409': problem, '413': problem },
    },
  },
  '/staff/api/campaigns/{slug}': {
    get: { summary: 'A campaign, with its consent versions and union links (never their tokens)', security, parameters: [slug], responses: { '200': { description: 'the campaign', ...json('AdminCampaign') }, '401': problem, '403': problem, '404': problem } },
    post: {
      summary: 'Change a campaign: only the fields given change; consent is never a field (publish a version); audited',
      security,
      parameters: [slug],
      requestBody: { required: true, ...json('CampaignChange') },
      responses: { '200': { description: 'the campaign as it is now', ...json('AdminCampaign') }, ...refusals, '409': problem, '413': problem },
    },
  },
  '/staff/api/campaigns/{slug}/consent': {
    post: {
      summary: 'Publish a new consent version (appended; earlier versions never change; new uploads need it); audited',
      security,
      parameters: [slug],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['consent'], properties: { consent: consentTexts } } } } },
      responses: { '201': { description: 'the new version', content: { 'application/json': { schema: { type: 'object', properties: { version: { type: 'integer' }, texts: consentTexts, publishedAt: { type: 'string', format: 'date-time' } } } } } }, ...refusals, '409': problem },
    },
  },
  '/staff/api/campaigns/{slug}/logo': {
    post: {
      summary: 'Set the logo: PNG, JPEG or WebP by content (SVG and HEIC refused), at most 100 KB and 2048 px a side; decoded and stored again as PNG or JPEG without any metadata; served at /c/{slug}/logo/{id}; audited',
      security,
      parameters: [slug],
      requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', required: ['logo'], properties: { logo: { type: 'string', format: 'binary' } } } } } },
      responses: { '201': { description: 'the branding with the new logo', ...json('Branding') }, ...refusals, '409': problem, '413': problem, '415': problem },
    },
  },
  '/staff/api/campaigns/{slug}/links': {
    post: {
      summary: 'Make a union’s upload link (organisation and country filled in); the URL is returned once; audited',
      security,
      parameters: [slug],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['organisation', 'country'], properties: { organisation: { type: 'string', maxLength: 200 }, country: { type: 'string', pattern: '^[A-Za-z]{2}$' } } } } } },
      responses: { '201': { description: 'the link', content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' }, path: { type: 'string' }, url: { type: 'string' } } } } } }, ...refusals, '409': problem },
    },
  },
  '/staff/api/campaigns/{slug}/links/{linkId}/revoke': {
    post: { summary: 'Revoke a union link: its page and uploads are refused (link_revoked); audited', security, parameters: [slug, linkId], responses: { '200': { description: 'revoked' }, ...refusals, '409': problem } },
  },
} as const;

export const campaignAdminSchemas = {
  Branding: {
    type: 'object',
    properties: {
      logo: { type: ['object', 'null'], properties: { url: { type: 'string' }, contentType: { type: 'string' }, bytes: { type: 'integer' }, width: { type: 'integer' }, height: { type: 'integer' } } },
      accentColour: colour,
      backgroundColour: colour,
    },
  },
  CampaignChange: { type: 'object', additionalProperties: false, properties: changeFields },
  NewCampaign: {
    type: 'object',
    additionalProperties: false,
    required: ['slug', 'name', 'languages', 'consent'],
    properties: {
      slug: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' },
      ...changeFields,
      consent: consentTexts,
      rejectionReasons: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, texts: localised } } },
    },
  },
  AdminCampaign: {
    type: 'object',
    properties: {
      slug: { type: 'string' },
      open: { type: 'boolean', description: 'takes clips now (status and dates)' },
      ...changeFields,
      branding: { $ref: '#/components/schemas/Branding' },
      consentVersions: { type: 'array', items: { type: 'object', properties: { version: { type: 'integer' }, publishedAt: { type: 'string', format: 'date-time' }, texts: consentTexts } } },
      unionLinks: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, organisation: { type: 'string' }, country: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, revokedAt: { type: ['string', 'null'], format: 'date-time' } } } },
    },
  },
} as const;

export const staffSecuritySchemes = {
  staffSession: { type: 'apiKey', in: 'cookie', name: '__Host-staff', description: 'The staff session cookie (named `staff` on plain http on this machine), after password and second factor' },
  csrfToken: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The session’s CSRF token (as in the pages’ forms), on every POST' },
} as const;

const shape = { type: 'string', enum: ['source', 'square', 'vertical'] };
const use = { name: 'use', in: 'query', schema: { type: 'string', enum: ['social', 'web', 'events', 'press'], default: 'social' }, description: 'The use wanted: only clips whose contributor agreed to it are offered' };

/** The social teams' gallery (roles social and admin, limited to their campaigns). */
export const galleryApiPaths = {
  '/staff/api/gallery': {
    get: {
      summary: 'Released clips the person may re-share, newest first, with their files and suggested post texts',
      security: [{ staffSession: [] }],
      parameters: [
        { name: 'campaign', in: 'query', schema: { type: 'string' } },
        { name: 'language', in: 'query', schema: { type: 'string' }, description: 'A caption language, e.g. "be"' },
        { name: 'country', in: 'query', schema: { type: 'string', pattern: '^[A-Za-z]{2}$' } },
        { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } },
        { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } },
        { name: 'shape', in: 'query', schema: shape },
        use,
      ],
      responses: { '200': { description: '{ items: [...] }' }, '400': problem, '401': problem, '403': problem },
    },
  },
  '/staff/api/gallery/{id}/files/{output}': {
    get: {
      summary: 'A short-lived presigned link to one released file (its filename names the campaign, never the contributor)',
      security: [{ staffSession: [] }],
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-f0-9]{24}$' } },
        { name: 'output', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' }, description: 'e.g. vertical-be, square, poster-source, captions-be-vtt' },
        use,
      ],
      responses: { '200': { description: '{ url, filename, expiresInSeconds }' }, '401': problem, '403': problem, '404': problem },
    },
  },
} as const;
