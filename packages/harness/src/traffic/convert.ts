import type { KeyValue as ClientKeyValue } from "@keyway/client";
import type { KeyValue } from "../history/types.js";

/** A client key-value as the history records it (UTF-8 strings, bigint revisions). */
export function recordKv(kv: ClientKeyValue): KeyValue {
  return {
    key: kv.keyText(),
    value: kv.text(),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}
