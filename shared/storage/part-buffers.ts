/**
 * Part buffers kept from one upload to the next (multipart-upload.ts), at most MAX_KEPT of them.
 *
 * Why: a part buffer lives as long as its upload, so V8 moves it to the old generation, where only a full
 * (mark-compact) collection frees it; and V8 starts such collections when memory outside its heap grows.
 * With new buffers for every upload (16 MiB each), bench:upload saw the server fall into a mark-compact
 * every ~100 ms from the second upload on, for the rest of its life: 40–70 a GiB, and 3–5 CPU-seconds per
 * GiB instead of 2.5. Reusing the buffers, it does 3 or 4 in all.
 * Memory: what is kept is at most MAX_KEPT part buffers (64 MiB at the default part size) while no upload
 * runs; while uploads run, no more than they take anyway.
 */
const MAX_KEPT = 4;
const kept: Buffer[] = [];

/** A kept buffer of this size, else a new one (not zero-filled: parts are written before they are sent). */
export function takePartBuffer(bytes: number): Buffer {
  const index = kept.findIndex((buffer) => buffer.length === bytes);
  if (index === -1) return Buffer.allocUnsafeSlow(bytes);
  return kept.splice(index, 1)[0]!;
}

/** Hands buffers back once nothing reads or writes them any more (no request in flight still sends them). */
export function keepPartBuffers(buffers: Iterable<Buffer>): void {
  for (const buffer of buffers) {
    if (kept.length >= MAX_KEPT) return;
    if (!kept.includes(buffer)) kept.push(buffer);
  }
}
