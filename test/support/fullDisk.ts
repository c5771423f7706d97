import { IDBObjectStore as FDBObjectStore } from 'fake-indexeddb';

type Write = (this: IDBObjectStore, ...args: unknown[]) => unknown;

/**
 * A device whose storage fills up: once `after(rows)` more rows were written, every put or add of
 * fake-indexeddb fails as a full browser's does — the request errs with a DOMException named
 * QuotaExceededError, and the transaction aborts with it (nothing of it is kept). `free()` makes
 * room again; `restore()` puts fake-indexeddb back as it was.
 *
 * @example
 * const disk = fullDisk();
 * disk.after(0); // the next write fails
 */
export function fullDisk() {
  let left = Infinity;
  const proto = FDBObjectStore.prototype as unknown as Record<'put' | 'add', Write>;
  const original = { put: proto.put, add: proto.add };
  const guard = (write: Write): Write =>
    function (this: IDBObjectStore, ...args: unknown[]) {
      if (left-- > 0) return write.apply(this, args);
      // As IndexedDB reports it: an error on the request, whose default action aborts the transaction.
      const transaction = this.transaction as unknown as { _execRequestAsync(request: { operation: () => never; source: unknown }): unknown };
      return transaction._execRequestAsync({
        operation: () => {
          throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        },
        source: this,
      });
    };
  proto.put = guard(original.put);
  proto.add = guard(original.add);
  return {
    /** Room for `rows` more rows. */
    after(rows: number) {
      left = rows;
    },
    free() {
      left = Infinity;
    },
    restore() {
      proto.put = original.put;
      proto.add = original.add;
    },
  };
}
