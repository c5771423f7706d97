import { ValidationError } from '../../errors.ts';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Checks a SQL schema name. Only lower-case unquoted identifiers are accepted: they are
 * embedded in SQL and in the connection's `-c search_path=` option, where quoting is fragile.
 */
export function checkSchemaName(name: string): string {
  if (!NAME.test(name)) {
    throw ValidationError.at('schemaName', 'must be a lower-case SQL identifier (a-z, 0-9, _; at most 63 characters)');
  }
  return name;
}
