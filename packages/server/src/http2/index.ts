/**
 * Client connections for the grpc-js server, with `:authority` repaired at the HTTP/2 level.
 *
 * grpc-go (etcdctl 3.4's per-endpoint calls: `endpoint status|hashkv`, `defrag`, `snapshot save`,
 * `move-leader`) dials `passthrough:///http://host:port` and sends `:authority: http://host:port`;
 * Node's HTTP/2 resets such streams (an authority may not contain "/"). {@link listenRepaired}
 * owns the TCP listener and hands each connection to grpc-js through
 * `server.createConnectionInjector()`: the native socket when the connection's first header block
 * needs no repair (see {@link FirstRequestSniffer}), otherwise a stream that rewrites only the
 * header blocks that need it (see {@link AuthorityRepairer}).
 */
export { repairedAuthority } from "./authority.js";
export { AuthorityRepairer, type AuthorityRepairerOptions } from "./authority-repairer.js";
export { Http2InputError } from "./errors.js";
export {
  EMPTY_SETTINGS_FRAME,
  FirstRequestSniffer,
  type SniffDecision,
  type SniffRoute,
} from "./first-request-sniffer.js";
export {
  type FieldWatch,
  type HeaderField,
  HpackDecoder,
  type HpackDecoderOptions,
} from "./hpack-decoder.js";
export { encodeLiteralBlock } from "./hpack-encoder.js";
export { type ListenRepairedOptions, listenRepaired, type RepairedListener } from "./listen.js";
export { AuthorityRepairingStream, authorityRepairingStream } from "./repairing-stream.js";
