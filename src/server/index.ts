// syncflow/server: the sync server (Node only). See docs/protocol.md for the HTTP protocol.
export { createSyncServer, type MountedApp, type SyncServer, type SyncServerOptions } from './createSyncServer.ts';
export { openStorage, type StorageOptions } from './storage/openStorage.ts';
export type { Queryable, QueryResult, Storage } from './storage/Storage.ts';
export { compileAccess, AccessPolicy, type AccessRule, type AccessRules } from './access.ts';
export type { BatchHandlerContext, BeforeCommitItem, EntityHandlers, HandlerContext, Handlers } from './handlers.ts';
export type { UserConfig } from './auth.ts';
export type { AuthUser } from './AuthUser.ts';
export { constraintSql } from './constraintSql.ts';
export { encodeCursor, decodeCursor, type CursorPosition } from './cursor.ts';
export { startSyncServer, homePage, type StartSyncServerOptions, type RunningSyncServer } from '../config/startSyncServer.ts';
export { loadConfig, findConfigFile, resolveAuth, type LoadedConfig } from '../config/loadConfig.ts';
export { jwtVerifier } from '../config/jwtVerifier.ts';
export { defineConfig } from '../config/defineConfig.ts';
export type { SyncflowConfig, AuthConfig, JwtAuthOptions, TokenVerifier } from '../config/SyncflowConfig.ts';
