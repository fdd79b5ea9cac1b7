/**
 * The one helper that puts a file path into an ffmpeg filter graph. Two levels of quoting apply:
 * a filter option value (\ ' : are special) inside a filter graph (\ ' [ ] , ; are special).
 * Only paths the code chose go through here; contributor text never enters a filter string.
 */
export function escapeFilterPath(path: string): string {
  const optionValue = path.replace(/[\\':]/g, (c) => `\\${c}`);
  return optionValue.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}
