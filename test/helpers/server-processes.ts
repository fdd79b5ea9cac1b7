import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');

/**
 * Real server processes (dist/server/main.js, built by `npm test`'s setup) on one test app's services, each
 * on a port of its own: replicas behind a balancer, as production runs them. Killed at the end.
 */
export function serverProcesses() {
  const started: ChildProcess[] = [];
  return {
    /** Starts one and answers its base URL once it listens (read from its `listening` log line). */
    async start(env: NodeJS.ProcessEnv): Promise<string> {
      const server = spawn(process.execPath, [join(ROOT, 'dist', 'server', 'main.js')], {
        env: { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(server);
      let stderr = '';
      server.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const lines = createInterface({ input: server.stdout! });
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the server process did not listen within 60 s: ${stderr}`)), 60_000);
        server.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the server process exited (${String(code)}) before listening: ${stderr}`));
        });
        // Every line is read (the pipe must not fill up); only the first `listening` one is looked at.
        lines.on('line', (line) => {
          if (process.env.TEST_LOG_LEVEL) process.stdout.write(`${line}\n`);
          const parsed = line.startsWith('{') ? (JSON.parse(line) as { msg?: string; url?: string }) : {};
          if (parsed.msg === 'listening' && parsed.url) {
            clearTimeout(timer);
            resolve(parsed.url);
          }
        });
      });
    },
    async stopAll(): Promise<void> {
      await Promise.all(
        started.splice(0).map(async (server) => {
          if (server.exitCode !== null || server.signalCode !== null) return;
          const exited = once(server, 'exit');
          server.kill('SIGKILL');
          await exited;
        }),
      );
    },
  };
}
