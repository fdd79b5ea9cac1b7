/** What a wait is for, and how long it may take. */
export interface WaitOptions {
  /** Fails after this long (the condition is asked once more at the end). */
  timeoutMs: number;
  /** What is waited for, as the failure message names it: "the clip in review". */
  what: string;
  /** How often the condition is asked (default 100 ms). */
  intervalMs?: number;
  /** Describes the state at a time-out ("status processing, progress 12"): the failure says how far it got. */
  seen?: () => unknown;
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * The tests' one way to wait for something: asks `condition` until it gives a truthy value (returned), and
 * fails after `options.timeoutMs` with a message naming what it waited for. Never a fixed sleep: a wait ends
 * as soon as the condition holds, and a condition that never holds fails the test instead of hanging it.
 * A condition that throws fails the wait at once (a broken check is not retried until the time-out).
 */
export async function waitUntil<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<Truthy<T>> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const result = await condition();
    if (result) return result as Truthy<T>;
    if (Date.now() >= deadline) {
      const seen = options.seen ? `; last seen: ${shown(await options.seen())}` : '';
      throw new Error(`timed out after ${Date.now() - started} ms (limit ${options.timeoutMs} ms) waiting for ${options.what}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : String(JSON.stringify(value));
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
