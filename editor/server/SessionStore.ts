/**
 * The editor's sign-ins: a random session id (the cookie) maps to the user and the bearer token
 * they gave, kept only here, in the server's memory. The page never sees a token; a restart of
 * the editor signs everyone out.
 */
import { randomBytes } from 'node:crypto';

export interface EditorSession {
  id: string;
  user: string;
  roles: string[];
  /** The user's own bearer token, added to the calls proxied to the sync server. */
  token: string;
  expiresMs: number;
}

const LIFETIME_MS = 12 * 60 * 60 * 1000;
/** Bounds the memory a flood of sign-ins can take: the oldest session goes first. */
const MAX_SESSIONS = 10_000;
/** 32 random bytes, base64url: 43 characters. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  readonly #sessions = new Map<string, EditorSession>();

  /**
   * @example
   * const session = sessions.create({ user: 'alice', roles: ['author'], token });
   * res.setHeader('set-cookie', `${name}=${session.id}; HttpOnly; SameSite=Strict; Path=/`);
   */
  create(who: { user: string; roles: string[]; token: string }): EditorSession {
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const session = { ...who, id: randomBytes(32).toString('base64url'), expiresMs: Date.now() + LIFETIME_MS };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session of a cookie value, or undefined (unknown, malformed or expired). */
  get(id: string | undefined): EditorSession | undefined {
    if (!id || !SESSION_ID.test(id)) return undefined;
    const session = this.#sessions.get(id);
    if (session && session.expiresMs <= Date.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  /** The user's roles as the sync server reports them now (a role change applies on the next write). */
  setRoles(id: string, roles: string[]): void {
    const session = this.#sessions.get(id);
    if (session) session.roles = roles;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }
}
