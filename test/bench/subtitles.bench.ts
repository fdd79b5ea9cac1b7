import { decodeSubtitleBytes } from '../../shared/subtitles/decode-text';
import { parseSubtitles } from '../../shared/subtitles/subtitles';
import { hostileSubtitles, plainSrt } from '../helpers/hostile-subtitles';
import { formatRatio, timed } from './bench-env';

/**
 * npm run bench:subtitles — how long the worker takes to read (decode and parse) each hostile 1 MiB
 * subtitle file of test/helpers/hostile-subtitles.ts, against a plain, valid 1 MiB SRT timed in the same
 * run. Every file must be read or refused in under 1 s; a parser whose time grows with the square of a
 * line's length took minutes here. Median of 5 runs each.
 */

const RUNS = 5;
const TARGET_SECONDS = 1;

async function medianSeconds(bytes: Buffer): Promise<{ seconds: number; answer: string }> {
  let answer = '';
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    times.push(
      await timed(async () => {
        try {
          answer = `${parseSubtitles(decodeSubtitleBytes(bytes, 'en').text).length} cues`;
        } catch (error) {
          answer = (error as Error).message;
        }
      }),
    );
  }
  return { seconds: times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!, answer };
}

async function main(): Promise<void> {
  const plain = await medianSeconds(plainSrt());
  process.stdout.write(`plain 1 MiB SRT (baseline): ${plain.seconds.toFixed(4)} s (${plain.answer})\n\n`);
  process.stdout.write(`${'file'.padEnd(58)} ${'seconds'.padStart(8)}   ${'÷ plain'.padStart(8)}   answer\n`);
  let worst = { name: '', seconds: 0 };
  for (const file of hostileSubtitles()) {
    const { seconds, answer } = await medianSeconds(file.bytes);
    if (seconds > worst.seconds) worst = { name: file.name, seconds };
    process.stdout.write(`${file.name.padEnd(58)} ${seconds.toFixed(4).padStart(8)}   ${(seconds / plain.seconds).toFixed(2).padStart(8)}   ${answer.slice(0, 60)}\n`);
  }
  process.stdout.write(`\n${formatRatio(`worst (${worst.name}) ÷ plain`, worst.seconds / plain.seconds, 'a small constant: linear')}\n`);
  process.stdout.write(`${formatRatio('worst, seconds', worst.seconds, `< ${TARGET_SECONDS}`)}\n`);
  if (worst.seconds >= TARGET_SECONDS) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:subtitles: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
