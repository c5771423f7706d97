import { access } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { ValidationError } from '../errors.ts';
import { defineConfig } from './defineConfig.ts';
import type { SyncflowConfig, TokenVerifier } from './SyncflowConfig.ts';

/** The names `syncflow` looks for in the working folder when no `--config` is given. */
export const CONFIG_FILE_NAMES = ['syncflow.config.ts', 'syncflow.config.mts', 'syncflow.config.js', 'syncflow.config.mjs'] as const;

export interface LoadedConfig {
  config: SyncflowConfig;
  /** The config file, absolute. */
  file: string;
  /** The folder of `*.flow.json` files (the config's `flows`, relative to the file; default `flows`). */
  flowsDir: string;
  /** The app's token verifier, or undefined for the server's token table. */
  verifyToken?: TokenVerifier;
}

/** The config file to use: `file` (relative to `cwd`) or the first of CONFIG_FILE_NAMES in `cwd`; null when none. */
export async function findConfigFile(file: string | undefined, cwd = process.cwd()): Promise<string | null> {
  if (file) {
    const path = resolve(cwd, file);
    if (!(await exists(path))) throw ValidationError.at('--config', `no config file ${path}`);
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    if (await exists(join(cwd, name))) return join(cwd, name);
  }
  return null;
}

/**
 * Loads an app's config file (TypeScript or JavaScript, through tsx's loader: no build step, no
 * eval), checks it (`defineConfig`: a ValidationError naming each bad field, prefixed with the
 * file) and prepares its auth.
 *
 * @example
 * const { config, flowsDir } = await loadConfig('syncflow.config.ts');
 */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  const path = resolve(file);
  let module: { default?: unknown; config?: unknown };
  try {
    module = await tsImport(pathToFileURL(path).href, import.meta.url);
  } catch (e) {
    if (e instanceof ValidationError || (e as { name?: string })?.name === 'ValidationError') throw located(path, e as ValidationError);
    throw ValidationError.at(path, `cannot load the config: ${(e as Error)?.message ?? String(e)}`);
  }
  const raw = module.default ?? module.config;
  if (!raw || typeof raw !== 'object') throw ValidationError.at(path, 'must `export default defineConfig({ ... })`');
  let config: SyncflowConfig;
  try {
    config = defineConfig(raw as SyncflowConfig);
  } catch (e) {
    throw e instanceof ValidationError ? located(path, e) : e;
  }
  const dir = dirname(path);
  return { config, file: path, flowsDir: resolve(dir, config.flows ?? 'flows'), verifyToken: await resolveAuth(config, dir) };
}

/** The token verifier of a config's `auth` (file paths relative to `dir`); undefined: the token table. */
export async function resolveAuth(config: SyncflowConfig, dir = process.cwd()): Promise<TokenVerifier | undefined> {
  const auth = config.auth;
  if (!auth) return undefined;
  if ('verify' in auth) return auth.verify;
  const jwksFile = auth.jwt.jwksFile && (isAbsolute(auth.jwt.jwksFile) ? auth.jwt.jwksFile : resolve(dir, auth.jwt.jwksFile));
  // jose loads only for an app that verifies JWTs.
  const { jwtVerifier } = await import('./jwtVerifier.ts');
  return jwtVerifier({ ...auth.jwt, jwksFile });
}

/** The same problems, each path prefixed with the config file (a config imported by another file fails at its import). */
function located(file: string, e: { problems?: Array<{ path: string; message: string }>; message: string }): ValidationError {
  const problems = e.problems ?? [{ path: '', message: e.message }];
  return new ValidationError(problems.map((p) => ({ path: `${file}: ${p.path}`, message: p.message })));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
