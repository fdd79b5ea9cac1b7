/**
 * The OpenAPI paths beside the multipart upload (openapi.ts): resumable uploads (tus 1.0), the contributor's
 * withdrawal, the receipt's QR code, the teams' feeds and the metrics. Kept apart so openapi.ts stays readable.
 */
const problem = { $ref: '#/components/responses/Problem' };
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-f0-9]{24}$' }, description: 'The submission id (also the upload id)' };
/** Said of every request about an upload after its creation (see tus-upload.ts, requireOwner). */
const ownerOnly =
  'Needs the status token whose SHA-256 the creation declared (`Authorization: Bearer <token>`); without it, or with another, ' +
  'the answer is 404 `upload_not_found`, as for an unknown id (an upload’s id can be guessed; its metadata and bytes are its sender’s alone). ';
const tusResumable = { name: 'Tus-Resumable', in: 'header', required: true, schema: { type: 'string', enum: ['1.0.0'] } };
const tokenParameter = { name: 'token', in: 'path', required: true, schema: { type: 'string' }, description: 'The feed token' };

const TUS_METADATA =
  'Upload-Metadata (tus: comma-separated `key base64(value)` pairs) carries the fields of the multipart API — `campaign`, ' +
  '`organisation`, `country`, `language`, `title`, `message`, `contactEmail`, `protection`, `protectFace`, `protectVoice`, `protectCard`, `consent`, `link`, `website` ' +
  '(the honeypot: leave it out) — checked at creation by the same schema, plus `statusTokenHash` (required: the hex SHA-256 of ' +
  'a status token the client made itself and keeps; the server never sees the token until the client asks for the status) ' +
  'and `subtitles` (optional, `follow`: a subtitle file is sent to PUT /tus/{id}/subtitles before the last byte of the clip, ' +
  'and is then required). `filename`, `filetype`, `name`, `type` and `relativePath` are accepted and dropped.';

export const MORE_PATHS = {
  '/api/submissions/{id}/withdraw': {
    post: {
      summary: 'The contributor withdraws consent: the clip is withdrawn and its files deleted',
      security: [{ statusToken: [] }],
      parameters: [idParameter],
      responses: {
        '200': { description: 'the status afterwards', content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmissionStatus' } } } },
        '401': problem,
        '404': problem,
        '409': problem,
        '429': problem,
      },
    },
  },
  '/api/qr': {
    post: {
      summary: "The receipt's QR code, as one SVG path (made here: the link carries the status token)",
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', maxLength: 400, pattern: '^https?://' } } },
          },
        },
      },
      responses: {
        '200': {
          description: 'an SVG path drawing the code in a size × size square',
          content: { 'application/json': { schema: { type: 'object', properties: { size: { type: 'integer' }, path: { type: 'string' } } } } },
        },
        '400': problem,
        '429': problem,
      },
    },
  },
  '/api/reports': {
    post: {
      summary: 'Start an action report (issue 18): its fields, checked against the campaign (kinds, days of action, consent)',
      description: 'JSON of at most 16 KiB: campaign, kind, day, city, country, participants, organisations, text, consent (and a union link token). Answers the report id and its status token (shown once). Photos follow one per request, then `submit`.',
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: { '202': { description: 'Created, waiting for its photos: `{ id, statusToken, status }`' }, '400': problem, '404': problem, '409': problem, '429': problem },
    },
  },
  '/api/reports/{id}/photos/{slot}': {
    put: {
      summary: 'One photo of a report (JPEG, PNG or WebP; HEIC refused): cleaned (re-encoded upright, no metadata) before it is stored',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'slot', in: 'path', required: true, schema: { type: 'integer', minimum: 0, maximum: 9 } }, { name: 'Authorization', in: 'header', required: true, schema: { type: 'string' }, description: 'Bearer <the status token given when the report was created>' }],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: { '200': { description: 'Stored (sending it again replaces it)' }, '400': problem, '401': problem, '404': problem, '409': problem, '413': problem, '415': problem, '503': problem },
    },
  },
  '/api/reports/{id}/submit': {
    post: { summary: 'The report is complete: it enters review', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'Authorization', in: 'header', required: true, schema: { type: 'string' }, description: 'Bearer <the status token given when the report was created>' }], responses: { '200': { description: 'In review' }, '400': problem, '401': problem, '404': problem, '409': problem } },
  },
  '/api/reports/{id}/status': {
    get: { summary: 'A report\'s state and its photos\' (its status page reads it)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'Authorization', in: 'header', required: true, schema: { type: 'string' }, description: 'Bearer <the status token given when the report was created>' }], responses: { '200': { description: 'The state' }, '401': problem, '404': problem } },
  },
  '/api/reports/{id}/withdraw': {
    post: { summary: 'Withdraws a report: it leaves the tallies and its photos are deleted', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'Authorization', in: 'header', required: true, schema: { type: 'string' }, description: 'Bearer <the status token given when the report was created>' }], responses: { '200': { description: 'Withdrawn' }, '400': problem, '401': problem, '404': problem, '409': problem } },
  },
  '/api/verify': {
    post: {
      summary: 'Check a file against the campaign\'s releases (its C2PA signature, then its picture and sound)',
      description:
        'One file in the multipart field `file`: a video (MP4, MOV, WebM, MKV, AVI, MPEG-TS) or a JPEG, at most VERIFY_MAX_BYTES ' +
        '(videos up to VERIFY_MAX_SECONDS). The file is checked by a job and deleted; it is never kept or shown. ' +
        'Limited to RATE_LIMIT_VERIFY files per client and window. No URL is fetched. Read the answer at `url` for an hour.',
      requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } } } },
      responses: {
        '202': {
          description: 'Taken: the check is waiting for the worker',
          content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, url: { type: 'string' }, page: { type: 'string' } } } } },
        },
        '400': problem,
        '413': problem,
        '415': problem,
        '429': problem,
        '503': problem,
      },
    },
  },
  '/api/verify/{id}': {
    get: {
      summary: 'The answer of a check (for an hour)',
      description:
        '`status`: waiting, checking, done or failed (`failure`: not_media, too_long, too_large, damaged, internal). `answer.verdict`: ' +
        'signed (signed under this deployment\'s root and unchanged), signed_revoked (the campaign withdrew it), signed_changed ' +
        '(changed after signing), signed_other (signed by someone else), matches (no signature, but its picture or sound matches a ' +
        'release: `answer.match` has the timelines over the release, kept / cut / changed, and the copy\'s foreign stretches), no_match.',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } }],
      responses: {
        '200': { description: 'The check', content: { 'application/json': { schema: { type: 'object' } } } },
        '404': problem,
      },
    },
  },
  '/tus': {
    post: {
      summary: 'Create a resumable upload (tus 1.0 creation)',
      description:
        'A resumable alternative to POST /api/submissions, ending the same way (same checks, limits, sniffing and SHA-256). ' +
        `${TUS_METADATA} Refusals (closed campaign, consent, fields, size) come here, before any byte of the clip. ` +
        'Counts against the same per-client upload limit as the multipart API. The size must be declared (Upload-Defer-Length ' +
        'is refused: `length_required`); Upload-Concat (parallel pieces) is not supported (501 `concatenation_not_supported`).',
      parameters: [
        tusResumable,
        { name: 'Upload-Length', in: 'header', required: true, schema: { type: 'integer', minimum: 1 }, description: 'The clip’s size in bytes (at most UPLOAD_MAX_BYTES)' },
        { name: 'Upload-Metadata', in: 'header', required: true, schema: { type: 'string' } },
      ],
      responses: {
        '201': { description: 'Created: `Location: /tus/{id}`, where the id is the submission id' },
        '400': problem,
        '403': problem,
        '404': problem,
        '413': problem,
        '415': problem,
        '429': problem,
        '501': problem,
        // server_busy (UPLOAD_MAX_IN_FLIGHT), server_stopping (a restart: send it again), storage_unavailable, or
        // queue_unavailable (Redis, where the limits are counted, is away), with Retry-After.
        '503': problem,
      },
    },
    options: { summary: 'tus capabilities (Tus-Version, Tus-Extension, Tus-Max-Size)', responses: { '204': { description: 'capabilities' } } },
  },
  '/tus/{id}': {
    head: {
      summary: 'How much of the upload the server holds (Upload-Offset): resume from there',
      description:
        ownerOnly +
        'Of a complete upload whose last step failed (storage or database down), the HEAD runs that step again: Upload-Offset ' +
        'equals Upload-Length only once the submission exists. Until then, and whenever storage or the database is down, ' +
        'the answer is 423 with Retry-After (not 503: tus-js-client starts a new upload when a HEAD fails otherwise): ask again.',
      security: [{ statusToken: [] }],
      parameters: [idParameter, tusResumable],
      responses: {
        '200': { description: 'Upload-Offset, Upload-Length' },
        '404': problem,
        '410': { description: 'expired' },
        // With Retry-After: the upload is kept (storage or database down, or its last step not yet done); ask again later.
        '423': { description: 'not answerable now: ask again after Retry-After' },
        '429': problem,
      },
    },
    patch: {
      summary: 'Send bytes from Upload-Offset (the whole rest of the clip, or a chunk)',
      description:
        ownerOnly +
        'Content-Type: application/offset+octet-stream. The bytes are checked as they arrive: a file that is not a video is ' +
        'refused (415) after its first 4 KiB and everything stored for it removed. What arrives before a connection breaks is ' +
        'kept: HEAD, then continue from its offset. The request that completes the upload answers 200 with the receipt ' +
        '(`{"id","status":"received","statusUrl"}`; the status token is the one the client made) or the refusal as problem+json. ' +
        '409 `upload_offset_mismatch` when Upload-Offset is not the server’s (HEAD and continue). A request that brings ' +
        'less than 1 KiB in UPLOAD_IDLE_SECONDS is cut off (408 `upload_stalled`); storage down is 503 `storage_unavailable` ' +
        'with Retry-After; in both, what was stored is kept: HEAD and continue. When storage or the database fails at the ' +
        'last step (reading the clip back, making the submission), the request that completes the upload answers 503 ' +
        '`storage_unavailable` / `database_unavailable` with Retry-After and the whole upload is kept: its last step runs ' +
        'again at the next HEAD or PATCH (at the upload’s length, with an empty body: 200 and the receipt), or by the ' +
        'server within minutes; only a refusal (4xx) removes it. 423 `upload_locked`: another request still ' +
        'holds the upload (it is asked to let go): try again. HEAD, PATCH, DELETE and the subtitle file count against the ' +
        'per-client request limit (429).',
      security: [{ statusToken: [] }],
      parameters: [
        idParameter,
        tusResumable,
        { name: 'Upload-Offset', in: 'header', required: true, schema: { type: 'integer', minimum: 0 } },
      ],
      requestBody: { required: true, content: { 'application/offset+octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: {
        '200': { description: 'the last bytes: the submission was received', content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmissionReceipt' } } } },
        '204': { description: 'bytes stored; Upload-Offset is the new offset' },
        '400': problem,
        '404': problem,
        '408': problem,
        '409': problem,
        '413': problem,
        '415': problem,
        '423': problem,
        '429': problem,
        '503': problem,
      },
    },
    delete: {
      summary: 'Abandon an unfinished upload (tus termination): everything stored for it is removed',
      description: ownerOnly,
      security: [{ statusToken: [] }],
      parameters: [idParameter, tusResumable],
      responses: { '204': { description: 'removed' }, '400': { description: 'the upload has finished (it is a submission now)' }, '404': { description: 'no such upload' } },
    },
    options: { summary: 'tus capabilities', responses: { '204': { description: 'capabilities' } } },
  },
  '/tus/{id}/subtitles': {
    put: {
      summary: 'The subtitle file of an unfinished upload created with the metadata `subtitles: follow`',
      description:
        'SRT or WebVTT in any text encoding, at most SUBTITLE_MAX_BYTES: the same checks as the multipart API’s `subtitles` ' +
        'field (the worker decodes and validates it). Sent again, it replaces the earlier one; refused once the clip has arrived.',
      security: [{ statusToken: [] }],
      parameters: [idParameter],
      requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
      responses: { '204': { description: 'stored' }, '404': problem, '408': problem, '409': problem, '413': problem, '415': problem, '429': problem, '503': problem },
    },
  },
  '/api/feeds/{token}/releases.json': {
    get: { summary: "A social team's feed of released clips (JSON Feed 1.1)", parameters: [tokenParameter], responses: { '200': { description: 'the feed' }, '404': problem } },
  },
  '/api/feeds/{token}/releases.atom': {
    get: { summary: 'The same feed as Atom', parameters: [tokenParameter], responses: { '200': { description: 'the feed' }, '404': problem } },
  },
  '/api/feeds/{token}/releases/files/{id}/{output}': {
    get: {
      summary: 'A released file of the feed: redirects to a short-lived signed download',
      parameters: [tokenParameter, idParameter, { name: 'output', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '303': { description: 'to the signed URL' }, '404': problem },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (Authorization: Bearer METRICS_BEARER_TOKEN)',
      responses: { '200': { description: 'text/plain; version=0.0.4' }, '401': problem },
    },
  },
} as const;
