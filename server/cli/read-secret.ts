/**
 * Reads a secret without putting it on the command line (where `ps` and shell history would show it):
 * a prompt with echo off on a terminal, otherwise the first line of standard input
 * (`printf '%s\n' "$PASSWORD" | npm run cli -- staff create-admin ana@example.org`).
 */
export function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    // Standard input up to its end (a secret is one short line; at most 64 KiB is read), then its first line.
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      input.on('data', (chunk: Buffer) => {
        if (bytes < 64 * 1024) chunks.push(chunk);
        bytes += chunk.length;
      });
      input.once('error', reject);
      input.once('end', () => {
        const first = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
        if (first === '') reject(new Error('no password on standard input'));
        else resolve(first);
      });
    });
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    let secret = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(secret);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') secret = secret.slice(0, -1);
        else secret += char;
      }
    };
    input.on('data', onData);
  });
}
