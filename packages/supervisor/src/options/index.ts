export { UsageError } from './usage-error.js';
export { parseDuration, parseSize, parseInteger, parseWorkers, parseSession } from './parse-values.js';
export { resolveStartOptions, resolveEnvFiles, resolveChdir, type RawStartFlags, type ResolveInput } from './resolve-start-options.js';
export { loadConfigFile } from './load-config-file.js';
export { loadEnvFiles, type EnvFiles } from './load-env-files.js';
export { LIBPQ_TARGET_VARIABLES, isDatabaseNamedByEnvironment } from './libpq-environment.js';
export { typescriptLoaderArgs, resolveFromFile, type ResolveFrom } from './typescript-loader.js';
export { parseDatabaseUrl, redactDatabaseUrl } from './database-url.js';
