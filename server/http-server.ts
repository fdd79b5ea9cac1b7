import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Config } from '../shared/config';

/** The headers of a request must arrive within this (a slow-headers client holds a connection for nothing). */
export const HEADERS_TIMEOUT_MS = 20_000;
/** A connection that says nothing for this long is dropped. */
export const SOCKET_IDLE_MS = 120_000;

/**
 * The HTTP server around the app, with its time limits (main.ts listens on it; tests too). A 2 GiB clip
 * from a phone on a slow network takes far longer than Node's default 5 minutes per request, so the whole
 * request may take HTTP_REQUEST_TIMEOUT_SECONDS (hours by default); a body that stalls or trickles is cut
 * off long before, after UPLOAD_IDLE_SECONDS, by the upload routes themselves (upload/stall-watch.ts) and
 * for every other body by middleware/body-idle.ts. The limits are checked every second rather than Node's
 * 30 s, so they hold to about a second.
 */
export function createHttpServer(app: Express, config: Pick<Readonly<Config>, 'http'>): Server {
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: config.http.requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: 1000,
    },
    app,
  );
  server.timeout = SOCKET_IDLE_MS;
  return server;
}
