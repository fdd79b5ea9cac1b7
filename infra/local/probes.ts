import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';

/** Ports and readiness probes for the local services (services.ts): loopback only. */
export const HOST = '127.0.0.1';

// --- ports ------------------------------------------------------------------------------------------

/**
 * Resolves each 0 to a free loopback port and checks that each fixed port is free. All listeners are
 * held open until every port is known, so two picks in one call can never be the same port.
 */
export async function pickPorts<K extends string>(wanted: Record<K, number>): Promise<Record<K, number>> {
  const servers: Server[] = [];
  try {
    const ports = { ...wanted };
    for (const key of Object.keys(wanted) as K[]) {
      const port = wanted[key];
      const server = createServer();
      servers.push(server);
      await new Promise<void>((ok, fail) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          fail(err.code === 'EADDRINUSE' ? new Error(`port ${HOST}:${port} is already in use`) : err),
        );
        server.listen(port, HOST, () => ok());
      });
      ports[key] = (server.address() as AddressInfo).port;
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((ok) => (s.listening ? s.close(() => ok()) : ok()))));
  }
}

// --- readiness probes -----------------------------------------------------------------------------

/** Connects, writes `request`, and collects the reply until `done` says it is complete (1 s at most). */
export function tcpExchange(port: number, requestBytes: Buffer, done: (reply: Buffer) => boolean): Promise<Buffer> {
  return new Promise((ok, fail) => {
    let reply = Buffer.alloc(0);
    const socket = connect({ host: HOST, port });
    const finish = (err?: Error): void => {
      socket.destroy();
      if (err) fail(err);
      else ok(reply);
    };
    socket.setTimeout(1_000, () => finish(new Error('timeout')));
    socket.once('error', finish);
    socket.once('connect', () => socket.write(requestBytes));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (done(reply)) finish();
    });
    socket.once('end', () => finish());
  });
}

export function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request({ host: HOST, port, path, method: 'GET', timeout: 1_000 }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', fail);
    req.end();
  });
}

/** A MongoDB wire-protocol OP_MSG carrying `{ ping: 1, $db: 'admin' }`, BSON written by hand. */
export function opMsgPing(): Buffer {
  const cstring = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
  const int32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return b;
  };
  const elements = Buffer.concat([
    Buffer.from([0x10]), cstring('ping'), int32(1), // int32 ping: 1
    Buffer.from([0x02]), cstring('$db'), int32(6), cstring('admin'), // string $db: 'admin'
  ]);
  const doc = Buffer.concat([int32(elements.length + 5), elements, Buffer.from([0])]);
  // header: messageLength, requestID, responseTo, opCode 2013 (OP_MSG); then flagBits and a kind-0 section
  const body = Buffer.concat([int32(1), int32(0), int32(2013), int32(0), Buffer.from([0]), doc]);
  return Buffer.concat([int32(body.length + 4), body]);
}

export function hasWholeMessage(reply: Buffer): boolean {
  return reply.length >= 4 && reply.length >= reply.readInt32LE(0);
}

/** True when the reply is an OP_MSG whose document has `ok: 1.0` (as a BSON double). */
export function isOkReply(reply: Buffer): boolean {
  if (!hasWholeMessage(reply) || reply.readInt32LE(12) !== 2013) return false;
  const okDouble = Buffer.concat([Buffer.from([0x01]), Buffer.from('ok\0'), Buffer.alloc(8)]);
  okDouble.writeDoubleLE(1, 4);
  return reply.includes(okDouble);
}

