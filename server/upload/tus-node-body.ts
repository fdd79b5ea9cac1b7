import type { IncomingMessage } from 'node:http';
import { finished, PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Server } from '@tus/server';
import { ERRORS, StreamLimiter, type CancellationContext, type DataStore, type Upload } from '@tus/utils';

/** What a PATCH's body is read from here: Node's request (see `readPatchBodiesFromNode`). */
class NodeBody {
  constructor(readonly request: IncomingMessage) {}
}

type PatchHandler = {
  store: DataStore;
  send(req: Request, context: CancellationContext, headers?: Headers): Promise<Response>;
  writeToStore(body: ReadableStream | NodeBody | null, upload: Upload, maxFileSize: number, context: CancellationContext): Promise<number>;
};

/**
 * @tus/server reads a PATCH's body as the web stream srvx makes of Node's request (Readable.toWeb), which it
 * turns back into a Node stream (Readable.fromWeb): two adapters and a few promises for every chunk, measured
 * at about 65 ms of CPU per 200 MiB received on the bench machine (bench:resume, --cpu-prof), where the
 * multipart API reads Node's request directly. Here the PATCH handler reads Node's request, with what
 * @tus/server's `writeToStore` does around it kept as it is: a pass-through between the request and the store
 * (a failing store never destroys the request, so the answer still reaches the client), the body's limit,
 * the request ended when the upload's lock is asked for by a newer request, a broken-off request answered
 * as aborted. Without Node's request (another runtime), @tus/server's own way is used.
 */
export function readPatchBodiesFromNode(server: Server): void {
  const handler = server.handlers.PATCH as unknown as PatchHandler;
  // @tus/server's internals (tests cover every PATCH path through this): if they change shape, its own way stays.
  if (typeof handler.send !== 'function' || typeof handler.writeToStore !== 'function') return;
  const send = handler.send.bind(handler);
  const writeToStore = handler.writeToStore.bind(handler);
  handler.send = (req, context, headers) => {
    const request = (req as { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
    // The body is read only by writeToStore below; shadowing the getter keeps srvx from making its web stream.
    if (request) Object.defineProperty(req, 'body', { value: new NodeBody(request), configurable: true });
    return send(req, context, headers);
  };
  handler.writeToStore = (body, upload, maxFileSize, context) =>
    body instanceof NodeBody ? writeFromNode(handler.store, body.request, upload, maxFileSize, context) : writeToStore(body, upload, maxFileSize, context);
}

async function writeFromNode(store: DataStore, request: IncomingMessage, upload: Upload, maxFileSize: number, context: CancellationContext): Promise<number> {
  if (context.signal.aborted) throw ERRORS.ABORTED;
  const proxy = new PassThrough();
  let sourceError: { error: unknown } | undefined;
  // A request that errs or closes before its end (the client went away) fails the write, as the web stream did.
  const stopWatching = finished(request, { writable: false }, (error) => {
    if (!error) return;
    sourceError ??= { error };
    request.unpipe(proxy);
    if (!context.signal.aborted) proxy.destroy(error);
  });
  // Asked to let go of the upload (a newer request for it): what arrived so far is stored, the rest is not read.
  const onAbort = () => {
    request.unpipe(proxy);
    if (!proxy.destroyed) proxy.end();
  };
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await pipeline(request.pipe(proxy), new StreamLimiter(maxFileSize), (limited) => store.write(limited as unknown as Readable, upload.id, upload.offset));
  } catch (error) {
    request.unpipe(proxy);
    const aborted = (sourceError && error === sourceError.error) || (error instanceof Error && error.name === 'AbortError');
    throw aborted ? ERRORS.ABORTED : error;
  } finally {
    stopWatching();
    context.signal.removeEventListener('abort', onAbort);
  }
}
