import { SUBMISSION_STATES } from '../shared/submissions/submission-states';
import { campaignAdminPaths, campaignAdminSchemas, galleryApiPaths, staffSecuritySchemes } from './openapi-staff';
import { MORE_PATHS } from './openapi-paths';

/**
 * The API, described for people and tools. Served at /api/openapi.json; a test walks the app's router and
 * checks every route that is not a page (or a page's asset) is described here.
 */
export function openApiDocument(serverUrl: string | undefined) {
  const problem = { $ref: '#/components/responses/Problem' };
  return {
    openapi: '3.1.0',
    info: {
      title: 'solidarity-clips API',
      version: '0.1.0',
      description:
        'Upload solidarity video messages for a campaign and follow what becomes of them. ' +
        'Errors are application/problem+json with a stable `code`.',
    },
    // Without PUBLIC_URL there is no server entry: clients then use the address they fetched this from.
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths: {
      '/healthz': { get: { summary: 'The process is alive', responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: {
          summary: 'The database, Redis and the bucket are reachable',
          responses: { '200': { description: 'ready' }, '503': { description: 'a dependency is unreachable' } },
        },
      },
      '/api/campaigns/{slug}': {
        get: {
          summary: 'A campaign: its languages, whether it takes clips, and its current consent text',
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'the campaign', content: { 'application/json': { schema: { $ref: '#/components/schemas/Campaign' } } } },
            '404': problem,
          },
        },
      },
      '/api/submissions': {
        post: {
          summary: 'Send a clip',
          description:
            'multipart/form-data. Send the fields before the file: when the campaign comes before the video, the whole form is ' +
            'checked then, so a closed campaign or missing consent is refused before the clip travels. Every refusal is ' +
            'answered as soon as it is known, and the connection closed. A body that stalls (less than 1 KiB in ' +
            'UPLOAD_IDLE_SECONDS) is cut off with 408; too many uploads at once get 503 server_busy and too many from one ' +
            'connection 429, both with Retry-After. ' +
            'The video is checked by its first bytes (MP4/MOV/3GP, Matroska/WebM, AVI, MPEG-TS), streamed to storage and queued for processing.',
          requestBody: {
            required: true,
            content: { 'multipart/form-data': { schema: { $ref: '#/components/schemas/NewSubmission' } } },
          },
          responses: {
            '202': {
              description: 'Received and queued. Keep the status token: it is shown once.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmissionReceipt' } } },
            },
            '400': problem,
            '403': problem,
            '404': problem,
            '408': problem,
            '409': problem,
            '413': problem,
            '415': problem,
            '429': problem,
            '503': problem,
          },
        },
      },
      '/api/submissions/{id}/status': {
        get: {
          summary: 'What became of a clip',
          security: [{ statusToken: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'the status',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmissionStatus' } } },
            },
            '401': problem,
            '404': problem,
            '429': problem,
          },
        },
      },
      '/api/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
      ...MORE_PATHS,
      ...campaignAdminPaths,
      ...galleryApiPaths,
    },
    components: {
      securitySchemes: { statusToken: { type: 'http', scheme: 'bearer', description: 'The statusToken returned by the upload' }, ...staffSecuritySchemes },
      responses: {
        Problem: {
          description: 'An error (RFC 9457)',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
      schemas: {
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string', description: 'A human explanation, safe to show to the contributor' },
            status: { type: 'integer' },
            code: {
              type: 'string',
              description: 'Stable machine code',
              examples: [
                'file_too_large',
                'unsupported_file_type',
                'consent_missing',
                'campaign_closed',
                'malformed_multipart',
                'upload_stalled',
                'too_many_requests',
                'server_busy',
              ],
            },
            errors: {
              type: 'array',
              items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
            },
            requestId: { type: 'string' },
          },
        },
        Campaign: {
          type: 'object',
          properties: {
            slug: { type: 'string' },
            name: { type: 'string' },
            titles: { type: 'object', additionalProperties: { type: 'string' }, description: 'The page title per language' },
            prompts: { type: 'object', additionalProperties: { type: 'string' }, description: 'What the campaign asks contributors for, per language' },
            branding: { $ref: '#/components/schemas/Branding' },
            hashtags: { type: 'array', items: { type: 'string' } },
            languages: { type: 'array', items: { type: 'string' } },
            open: { type: 'boolean' },
            opensAt: { type: ['string', 'null'], format: 'date-time' },
            closesAt: { type: ['string', 'null'], format: 'date-time' },
            consent: {
              type: 'object',
              properties: {
                version: { type: 'integer' },
                texts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      language: { type: 'string' },
                      statements: {
                        type: 'array',
                        items: { type: 'object', properties: { id: { type: 'string' }, text: { type: 'string' } } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        ...campaignAdminSchemas,
        NewSubmission: {
          type: 'object',
          required: ['video', 'campaign', 'organisation', 'country', 'language', 'title', 'consent'],
          properties: {
            campaign: { type: 'string', description: 'The campaign slug' },
            organisation: { type: 'string', maxLength: 200 },
            country: { type: 'string', description: 'ISO 3166-1 alpha-2, e.g. BY' },
            language: { type: 'string', description: 'Language spoken in the clip, e.g. be, ru, uk, en' },
            title: { type: 'string', maxLength: 140 },
            message: { type: 'string', maxLength: 2000 },
            contactEmail: { type: 'string', format: 'email', description: 'Optional; seen by the campaign team only' },
            protection: { type: 'string', enum: ['true', 'false'], description: 'Optional, kept for older clients: "true" is the same as protectFace and protectVoice both "true"' },
            protectFace: { type: 'string', enum: ['true', 'false'], description: 'Optional identity protection: every face is covered by a solid box in everything the campaign publishes (checked frame by frame by a moderator). Any protection makes two moderators\' approvals necessary' },
            protectVoice: { type: 'string', enum: ['true', 'false'], description: 'Optional identity protection: the voice is pitch-shifted by a secret factor drawn per clip (never stored)' },
            protectCard: { type: 'string', enum: ['true', 'false'], description: 'Optional identity protection: the picture is replaced by the campaign\'s card; the (disguised, with protectVoice) voice and the captions remain' },
            consent: {
              type: 'string',
              description: 'JSON: {"version":1,"language":"en","statements":["record","publish",…]} — every statement of the current version',
            },
            video: { type: 'string', format: 'binary' },
            subtitles: { type: 'string', format: 'binary', description: 'Optional SRT or WebVTT, any text encoding' },
          },
        },
        SubmissionReceipt: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            statusToken: { type: 'string' },
            status: { type: 'string', enum: ['received'] },
            statusUrl: { type: 'string' },
          },
        },
        SubmissionStatus: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            status: { type: 'string', enum: [...SUBMISSION_STATES] },
            description: { type: 'string' },
            progress: { type: ['integer', 'null'], minimum: 0, maximum: 100 },
            rejection: {
              type: ['object', 'null'],
              properties: { code: { type: 'string' }, reason: { type: 'string' } },
            },
            title: { type: ['string', 'null'], description: 'null once a withdrawn or rejected clip\'s personal data was cleared' },
            receivedAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  } as const;
}
