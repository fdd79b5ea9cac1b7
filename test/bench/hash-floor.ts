import { createHash } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * The floor for bench:upload's CPU figure, run as its own process: read a loopback socket and hash
 * what arrives once with SHA-256 — the least any server taking an upload (and checking its SHA-256)
 * must spend. Answers each connection with the hex digest. Port: argv[2].
 */
const server = createServer((socket) => {
  const hash = createHash('sha256');
  socket.on('data', (chunk: Buffer) => hash.update(chunk));
  socket.on('end', () => socket.end(hash.digest('hex')));
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
