import { describe, expect, it } from "vitest";
import { Http2InputError } from "../../src/http2/errors.js";
import { type HeaderField, HpackDecoder } from "../../src/http2/hpack-decoder.js";
import { encodeLiteralBlock } from "../../src/http2/hpack-encoder.js";
import { huffmanDecode } from "../../src/http2/huffman.js";
import { huffmanEncode } from "./wire.js";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");
const pairs = (fields: HeaderField[]) => fields.map((f) => [f.name, f.value]);

/** One step of an RFC 7541 Appendix C series: a block, the list it decodes to, the table after it. */
interface Step {
  block: string;
  headers: string[][];
  table: string[][];
  tableBytes: number;
}

function runSeries(steps: Step[], maxTableBytes = 4096): void {
  const decoder = new HpackDecoder({ maxTableBytes });
  for (const step of steps) {
    expect(pairs(decoder.decode(hex(step.block)))).toEqual(step.headers);
    expect(decoder.dynamicTable).toEqual(step.table);
    expect(decoder.dynamicTableBytes).toBe(step.tableBytes);
  }
}

const request1 = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "www.example.com"],
];
const request2 = [...request1, ["cache-control", "no-cache"]];
const request3 = [
  [":method", "GET"],
  [":scheme", "https"],
  [":path", "/index.html"],
  [":authority", "www.example.com"],
  ["custom-key", "custom-value"],
];
const requestTables = [
  [[":authority", "www.example.com"]],
  [
    ["cache-control", "no-cache"],
    [":authority", "www.example.com"],
  ],
  [
    ["custom-key", "custom-value"],
    ["cache-control", "no-cache"],
    [":authority", "www.example.com"],
  ],
];

const date1 = ["date", "Mon, 21 Oct 2013 20:13:21 GMT"];
const date2 = ["date", "Mon, 21 Oct 2013 20:13:22 GMT"];
const location = ["location", "https://www.example.com"];
const cookie = ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"];
const private_ = ["cache-control", "private"];
const responseHeaders = [
  [[":status", "302"], private_, date1, location],
  [[":status", "307"], private_, date1, location],
  [[":status", "200"], private_, date2, location, ["content-encoding", "gzip"], cookie],
];
const responseTables = [
  [location, date1, private_, [":status", "302"]],
  [[":status", "307"], location, date1, private_],
  [cookie, ["content-encoding", "gzip"], date2],
];

describe("HPACK decoder, RFC 7541 Appendix C", () => {
  it("C.2: one representation of each kind", () => {
    const decoder = new HpackDecoder();
    expect(
      pairs(decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))),
    ).toEqual([["custom-key", "custom-header"]]);
    expect(decoder.dynamicTableBytes).toBe(55);
    const plain = new HpackDecoder();
    expect(pairs(plain.decode(hex("040c 2f73 616d 706c 652f 7061 7468")))).toEqual([
      [":path", "/sample/path"],
    ]);
    expect(plain.dynamicTable).toEqual([]);
    const never = plain.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"));
    expect(never).toEqual([{ name: "password", value: "secret", sensitive: true }]);
    expect(plain.dynamicTable).toEqual([]);
    expect(plain.decode(hex("82"))).toEqual([{ name: ":method", value: "GET", sensitive: false }]);
  });

  it("C.3: requests without Huffman", () => {
    runSeries([
      {
        block: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        headers: request1,
        table: requestTables[0]!,
        tableBytes: 57,
      },
      {
        block: "8286 84be 5808 6e6f 2d63 6163 6865",
        headers: request2,
        table: requestTables[1]!,
        tableBytes: 110,
      },
      {
        block: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        headers: request3,
        table: requestTables[2]!,
        tableBytes: 164,
      },
    ]);
  });

  it("C.4: requests with Huffman", () => {
    runSeries([
      {
        block: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        headers: request1,
        table: requestTables[0]!,
        tableBytes: 57,
      },
      {
        block: "8286 84be 5886 a8eb 1064 9cbf",
        headers: request2,
        table: requestTables[1]!,
        tableBytes: 110,
      },
      {
        block: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        headers: request3,
        table: requestTables[2]!,
        tableBytes: 164,
      },
    ]);
  });

  it("C.5: responses without Huffman, 256-octet table with evictions", () => {
    const blocks = [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      "4803 3330 37c1 c0bf",
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
    ];
    runSeries(responseSteps(blocks), 256);
  });

  it("C.6: responses with Huffman, 256-octet table with evictions", () => {
    const blocks = [
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      "4883 640e ffc1 c0bf",
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ];
    runSeries(responseSteps(blocks), 256);
  });
});

function responseSteps(blocks: string[]): Step[] {
  const tableBytes = [222, 222, 215];
  return blocks.map((block, i) => ({
    block,
    headers: responseHeaders[i]!,
    table: responseTables[i]!,
    tableBytes: tableBytes[i]!,
  }));
}

describe("HPACK decoder, table size updates and malformed input", () => {
  it("decodeIfWatched keeps the table as decode does, and decodes in full on a match", () => {
    const blocks = ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf"].map(hex);
    const watcher = new HpackDecoder();
    const reference = new HpackDecoder();
    for (const block of blocks) {
      expect(
        watcher.decodeIfWatched(block, { name: ":authority", matches: (v) => v.includes("/") }),
      ).toBeUndefined();
      reference.decode(block);
      expect(watcher.dynamicTable).toEqual(reference.dynamicTable);
    }
    // The match comes after an insertion: the table must not get it twice.
    const third = hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
    const fields = watcher.decodeIfWatched(third, {
      name: ":authority",
      matches: (v) => v === "www.example.com",
    });
    expect(fields).toEqual(reference.decode(third));
    expect(watcher.dynamicTable).toEqual(reference.dynamicTable);
  });

  it("a size update evicts, and later insertions respect the new capacity", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
    // 0x3f 0x1a = size update to 31 + 26 = 57: the entry (57 octets) still fits.
    expect(pairs(decoder.decode(hex("3f1a be")))).toEqual([[":authority", "www.example.com"]]);
    // Size 0 empties the table; index 62 is then out of range.
    expect(decoder.decode(hex("20"))).toEqual([]);
    expect(decoder.dynamicTable).toEqual([]);
    expect(() => decoder.decode(hex("be"))).toThrow(Http2InputError);
  });

  it("an entry larger than the table empties it and is not added", () => {
    const decoder = new HpackDecoder({ maxTableBytes: 256 });
    decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    const big = Buffer.concat([hex("4001 61 7f 80 01"), Buffer.alloc(255, "x")]);
    expect(pairs(decoder.decode(big))).toEqual([["a", "x".repeat(255)]]);
    expect(decoder.dynamicTable).toEqual([]);
  });

  it.each([
    ["a size update above the setting", "3fe21f"],
    ["a size update after a field", "82 20"],
    ["index 0", "80"],
    ["an index beyond both tables", "c0"],
    ["a string past the end", "0403 2f61"],
    ["a block ending inside an integer", "3fff"],
    ["an integer overflow", "3fffffffffffffff7f"],
    ["EOS inside a Huffman string", "0484 ffff ffff"],
    ["Huffman padding of 8 bits", "0482 1fff"],
    ["Huffman padding with a zero bit", "0481 18"],
  ])("rejects %s", (_name, block) => {
    expect(() => new HpackDecoder().decode(hex(block))).toThrow(Http2InputError);
  });

  it("caps the decoded header list", () => {
    const decoder = new HpackDecoder({ maxHeaderListBytes: 100 });
    expect(() => decoder.decode(hex("8282828282828282"))).toThrow(/header list too large/);
  });

  it("Huffman-decodes every octet value, each code padded with ones", () => {
    for (let octet = 0; octet < 256; octet++) {
      const text = String.fromCharCode(octet, octet, 0x61);
      expect(huffmanDecode(huffmanEncode(text))).toBe(text);
    }
  });
});

describe("HPACK literal encoder", () => {
  it("round-trips through a decoder without touching its dynamic table", () => {
    const fields: HeaderField[] = [
      { name: ":authority", value: "127.0.0.1:2379", sensitive: false },
      { name: ":path", value: "/etcdserverpb.Maintenance/Status", sensitive: false },
      { name: "x-custom", value: "é\u00ff".repeat(100), sensitive: false },
      { name: "authorization", value: "secret", sensitive: true },
      { name: "n".repeat(200), value: "", sensitive: false },
    ];
    const decoder = new HpackDecoder();
    expect(decoder.decode(encodeLiteralBlock(fields))).toEqual(fields);
    expect(decoder.dynamicTable).toEqual([]);
  });
});
