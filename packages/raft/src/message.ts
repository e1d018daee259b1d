import type { Message, MessageType, NodeId } from "./types.js";

/** A message with every field the caller does not set at its zero value. */
export function message(
  fields: Partial<Message> & { readonly type: MessageType; readonly to: NodeId; readonly from: NodeId },
): Message {
  return {
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  };
}
