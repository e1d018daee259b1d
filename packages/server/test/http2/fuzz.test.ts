import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AuthorityRepairer } from "../../src/http2/authority-repairer.js";
import { Http2InputError } from "../../src/http2/errors.js";
import { CONNECTION_PREFACE } from "../../src/http2/frames.js";
import { HpackDecoder } from "../../src/http2/hpack-decoder.js";
import { encodeLiteralBlock } from "../../src/http2/hpack-encoder.js";
import { frame, huffmanEncode, literalIndexed } from "./wire.js";

/** Runs `action`; any error other than {@link Http2InputError} fails the property. */
function onlyInputErrors(action: () => void): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(Http2InputError);
  }
}

const seed = Buffer.concat([
  CONNECTION_PREFACE,
  frame(0x1, 0x4, 1, Buffer.concat([literalIndexed(1, "http://127.0.0.1:1"), Buffer.from([0x82, 0xbe])])),
  frame(0x0, 0x1, 1, Buffer.alloc(8)),
  frame(
    0x1,
    0x4 | 0x8,
    3,
    Buffer.concat([Buffer.from([2]), Buffer.from([0x04, 0x80 | 3]), huffmanEncode("/a/"), Buffer.alloc(2)]),
  ),
]);

describe("malformed input never escapes as anything but Http2InputError", () => {
  it("HPACK decoder on arbitrary blocks, decoded and scanned", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const block = Buffer.from(bytes);
        onlyInputErrors(() => new HpackDecoder({ maxTableBytes: 64 }).decode(block));
        onlyInputErrors(() =>
          new HpackDecoder({ maxTableBytes: 64 }).decodeIfWatched(block, {
            name: ":authority",
            matches: () => true,
          }),
        );
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it("the repairer on mutated connections, cut anywhere", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(seed.length),
        (mutations, cut) => {
          const input = Buffer.from(seed);
          for (const [at, value] of mutations) input[at] = value;
          const out: Buffer[] = [];
          const repairer = new AuthorityRepairer((chunk) => out.push(chunk));
          onlyInputErrors(() => {
            repairer.write(input.subarray(0, cut));
            repairer.write(input.subarray(cut));
          });
        },
      ),
      { numRuns: 3000, seed: 11 },
    );
  });

  it("literal blocks of arbitrary fields decode back to the same fields", () => {
    const octets = fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
      maxLength: 300,
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: octets, value: octets, sensitive: fc.boolean() }), { maxLength: 8 }),
        (fields) => {
          expect(new HpackDecoder().decode(encodeLiteralBlock(fields))).toEqual(fields);
        },
      ),
      { numRuns: 500, seed: 13 },
    );
  });
});
