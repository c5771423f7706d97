import type { Schema } from '../model/schema.ts';
import type { SyncDefinition } from '../model/syncState.ts';
import type { ProfileOptions } from '../profiles/ProfileManager.ts';
import type { AccessRules } from '../server/access.ts';
import type { AuthUser } from '../server/AuthUser.ts';
import type { UserConfig } from '../server/auth.ts';
import type { SyncServer } from '../server/createSyncServer.ts';
import type { Handlers } from '../server/handlers.ts';

/**
 * Who a bearer token belongs to, or null when it is not valid (the request gets 401 and counts as
 * a failed sign-in). A throw counts as null: a verifier's own error never answers 500.
 */
export type TokenVerifier = (token: string) => AuthUser | null | Promise<AuthUser | null>;

/** A JWT verifier (jose): the token's signature, issuer, audience and time claims are checked. */
export interface JwtAuthOptions {
  issuer: string | string[];
  audience: string | string[];
  /** A public key in PEM (SPKI), e.g. `-----BEGIN PUBLIC KEY-----...`. */
  publicKey?: string;
  /** A JWKS file (`{ "keys": [...] }`), relative to the config file's folder. */
  jwksFile?: string;
  /** Accepted algorithms (default RS256 and ES256). */
  algorithms?: string[];
  /** The claim holding the user id (default `sub`). */
  userClaim?: string;
  /** The claim holding the user's roles, an array of strings (default `roles`). */
  rolesClaim?: string;
}

/**
 * How the sync server knows who calls it. Default: the server's token table (the config's
 * `users` and the tokens `syncflow token issue` hands out).
 */
export type AuthConfig = { verify: TokenVerifier } | { jwt: JwtAuthOptions };

/** An app, as the sync server, the CLI and the editor take it. */
export interface SyncflowConfig {
  /** The data model (`defineSchema({ entities: ... })`). */
  schema: Schema;
  /** Who reads and writes what, per entity. */
  access: AccessRules;
  /** Before- and after-commit handlers per entity. */
  handlers?: Handlers;
  /** How bearer tokens become users (default: the token table). */
  auth?: AuthConfig;
  /** Users created or updated in the token table at start (their tokens never expire). */
  users?: UserConfig[];
  /** Named syncs devices define (`syncflow syncs`, `resync`). */
  syncs?: readonly SyncDefinition[];
  /** Sync profiles (SmartSync) devices run. */
  profiles?: ProfileOptions;
  /** The folder of `*.flow.json` files, relative to the config file (default `flows`). */
  flows?: string;
  /** Runs once the server is created, before it listens (demo data; must be idempotent). */
  seed?: (server: SyncServer) => Promise<void>;
}
