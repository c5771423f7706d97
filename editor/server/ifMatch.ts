import { ValidationError } from '../../src/errors.ts';

/** One element of an If-Match list: optional weak prefix, then a quoted opaque tag (RFC 9110 §8.8.3). */
const ENTITY_TAG = /[ \t]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*/y;

/**
 * The flow versions an `If-Match` header accepts (RFC 9110 §13.1.1): `*` (whatever is there),
 * or the strong entity tags of its list — a weak tag (`W/"v"`) never matches, as the RFC's
 * strong comparison says. Undefined without the header: an unconditional save. A header that is
 * not `*` nor a list of entity tags is a ValidationError naming `If-Match` (nothing is saved).
 *
 * @example
 * ifMatchOf('"a", W/"b", "c"') // ['a', 'c']
 */
export function ifMatchOf(header: string | undefined): '*' | string[] | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return '*';
  const strong: string[] = [];
  let at = 0;
  let tags = 0;
  for (;;) {
    // Empty list elements (", ,") are allowed by the list syntax.
    while (at < header.length && /[ \t,]/.test(header[at])) at++;
    if (at >= header.length) break;
    ENTITY_TAG.lastIndex = at;
    const m = ENTITY_TAG.exec(header);
    if (!m || (ENTITY_TAG.lastIndex < header.length && header[ENTITY_TAG.lastIndex] !== ',')) {
      throw ValidationError.at('If-Match', 'must be * or a list of entity tags, e.g. "3f2a…" as the ETag of the flow read');
    }
    tags++;
    if (!m[1]) strong.push(m[2]);
    at = ENTITY_TAG.lastIndex;
  }
  if (tags === 0) throw ValidationError.at('If-Match', 'must be * or a list of entity tags');
  return strong;
}
