/**
 * Collects the parameters of one statement while its text is built: every value becomes a
 * `$n` placeholder, so no value is ever interpolated into SQL.
 *
 * @example
 * const p = new SqlParams();
 * const where = `o.entity = ${p.add('Task')} AND o.owner = ${p.add(user)}`;
 * await storage.query(`SELECT count(*) FROM sf_objects o WHERE ${where}`, p.values);
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** Adds a value; answers its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /**
   * Adds a list as one JSON text parameter and answers a SQL array of `type`. JSON is read
   * the same way by both drivers (their native array encodings differ in the details).
   */
  array(values: readonly unknown[], type: 'text' | 'uuid' | 'numeric' | 'boolean' | 'timestamptz'): string {
    return `ARRAY(SELECT v::${type} FROM jsonb_array_elements_text(${this.add(JSON.stringify(values))}::text::jsonb) AS e(v))`;
  }

  /** Adds a value as JSON text, read as jsonb (both drivers pass text through untouched). */
  json(value: unknown): string {
    return `${this.add(JSON.stringify(value))}::text::jsonb`;
  }
}

/** A SQL string literal for trusted names (schema-validated identifiers), quotes doubled anyway. */
export function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
