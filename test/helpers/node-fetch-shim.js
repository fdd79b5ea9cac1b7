/**
 * c2pa-node imports node-fetch (ES modules only, which jest's CommonJS cannot load) for one function the project
 * never calls (loading settings from a URL). Under jest it gets Node's own fetch instead; dist loads node-fetch.
 */
module.exports = (...args) => globalThis.fetch(...args);
module.exports.default = module.exports;
