/** The user a request runs for, as authenticated from its bearer token. */
export interface AuthUser {
  id: string;
  roles: readonly string[];
}
