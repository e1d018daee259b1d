// CPU per response encode: the generated serializer (fresh writer, two copies) against
// encodeMessage (one reused writer, one copy). Best of 15 rounds of 100,000 encodes, process CPU
// time, the two alternating. Usage: node packages/bench/scripts/encode-bench.mjs (after tsc -b).
import { encodeMessage, etcdserverpb } from "../../api/dist/index.js";

const header = { clusterId: 17n, memberId: 42n, revision: 7n, raftTerm: 3n };
const put = etcdserverpb.PutResponse.fromPartial({ header });
const range = etcdserverpb.RangeResponse.fromPartial({
  header,
  kvs: [
    {
      key: Buffer.from("foo"),
      value: Buffer.alloc(256, 1),
      createRevision: 2n,
      modRevision: 5n,
      version: 3n,
    },
  ],
  count: 1n,
});
const N = 100000;
const best = {};
const cpu = (f) => {
  const s = process.cpuUsage();
  f();
  const d = process.cpuUsage(s);
  return ((d.user + d.system) * 1000) / N;
};
for (let round = 0; round < 15; round++) {
  for (const [name, msg, T] of [
    ["put", put, etcdserverpb.PutResponse],
    ["range", range, etcdserverpb.RangeResponse],
  ]) {
    const g = cpu(() => {
      for (let i = 0; i < N; i++) Buffer.from(T.encode(msg).finish());
    });
    const s = cpu(() => {
      for (let i = 0; i < N; i++) encodeMessage(T, msg);
    });
    best[`${name} generated`] = Math.min(best[`${name} generated`] ?? 1e9, g);
    best[`${name} shared`] = Math.min(best[`${name} shared`] ?? 1e9, s);
  }
}
for (const [k, v] of Object.entries(best)) console.log(k, v.toFixed(0), "ns CPU (best of 15)");
