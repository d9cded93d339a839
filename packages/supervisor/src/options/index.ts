export { UsageError } from './usage-error.js';
export { parseDuration, parsePositiveDuration, parseSize, parseInteger, parseWorkers, parseSession } from './parse-values.js';
export { resolveStartOptions, type RawStartFlags, type ResolveInput } from './resolve-start-options.js';
export { loadConfigFile } from './load-config-file.js';
