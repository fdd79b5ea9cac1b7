/**
 * Jest's module system runs CommonJS: packages that ship only ES modules (@tus, srvx, @contentauth/c2pa-node) are
 * turned into CommonJS by ts-jest. c2pa-node finds its native binary from `import.meta.url`, which CommonJS has
 * not: it becomes the file's own URL, and its `const require = createRequire(…)` (which CommonJS's own `require`
 * would clash with) is renamed. Node itself (dist) loads these packages as they are.
 */
const { pathToFileURL } = require('node:url');
const { TsJestTransformer } = require('ts-jest');

const tsJest = new TsJestTransformer({ isolatedModules: true, tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true } });

module.exports = {
  process(source, path, options) {
    let text = source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href));
    if (text.includes('const require = createRequire(')) text = text.replace('const require = createRequire(', 'const requireFromHere = createRequire(').replace(/\brequire\(C2PA_LIBRARY_PATH/g, 'requireFromHere(C2PA_LIBRARY_PATH');
    return tsJest.process(text, path, options);
  },
  getCacheKey(source, path, options) {
    return `esm-meta-2:${tsJest.getCacheKey(source, path, options)}`;
  },
};
