/**
 * The AWS SDK v3 warns, through process.emitWarning (eight lines, no code), that its releases after January
 * 2027 need a newer Node. It does so while a client is being built, and again in every module registry that
 * loads it. This builds a client with that one warning held back, and says it once per process, in one line.
 * Every other warning passes through untouched.
 */
const SDK_NODE_WARNING = /^NodeVersionSupportWarning\b/;
let said = false;

export function quietSdkNodeWarning<T>(create: () => T): T {
  const emitWarning = process.emitWarning;
  let held: string | undefined;
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (SDK_NODE_WARNING.test(text)) {
      held = text;
      return;
    }
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return create();
  } finally {
    process.emitWarning = emitWarning;
    if (held !== undefined && !said) {
      said = true;
      const needs = /node (>=\s*\d+)/i.exec(held)?.[1] ?? 'a newer Node';
      emitWarning.call(process, `AWS SDK v3 releases after the first week of January 2027 need node ${needs}; this is ${process.version}`, {
        type: 'NodeVersionSupportWarning',
        code: 'AWS_SDK_NODE_VERSION',
      });
    }
  }
}
