export { repairedAuthority } from "./authority.js";
export { AuthorityRepairer, type AuthorityRepairerOptions } from "./authority-repairer.js";
export { Http2InputError } from "./errors.js";
export { type HeaderField, HpackDecoder, type HpackDecoderOptions } from "./hpack-decoder.js";
export { encodeLiteralBlock } from "./hpack-encoder.js";
export { listenRepaired, type RepairedListener } from "./listen.js";
export { AuthorityRepairingStream, authorityRepairingStream } from "./repairing-stream.js";
