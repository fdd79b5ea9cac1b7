import { createInterface } from 'node:readline';

/**
 * Reads a secret without putting it on the command line (where `ps` and shell history would show it):
 * a prompt with echo off on a terminal, otherwise the first line of standard input
 * (`printf '%s\n' "$PASSWORD" | npm run cli -- staff create-admin ana@example.org`).
 */
export function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input });
      lines.once('line', (line) => {
        lines.close();
        resolve(line);
      });
      lines.once('close', () => reject(new Error('no password on standard input')));
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
