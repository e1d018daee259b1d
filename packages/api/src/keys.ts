/**
 * Key-range helpers shared by server and client. etcd encodes ranges as [key, range_end):
 * an empty range_end is the single key, a range_end of one zero byte means "every key >= key".
 */

/** The one-byte range_end that means "to the end of the keyspace". */
export const FROM_KEY_END: Buffer = Buffer.from([0]);

/**
 * The range_end that selects every key starting with `prefix`: the prefix with its last byte
 * below 0xff incremented and the rest dropped. A prefix of only 0xff bytes (or an empty one)
 * has no such end, so it means "from the key on", as etcd's Go client does.
 */
export function prefixEnd(prefix: Uint8Array): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return FROM_KEY_END;
}
