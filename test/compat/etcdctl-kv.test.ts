import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdctl, normalise, splitArgs } from "../support/etcdctl.js";
import { type ServerPair, startPair } from "../support/pair.js";

/**
 * Differential suite: each step runs the same etcdctl 3.4 command against real etcd 3.4 and
 * against Keyway, in order, on two fresh servers, and the outputs (ids and timings blanked) and
 * exit codes must be identical. Steps build on each other, so revisions line up too.
 */
interface Step {
  args: string[];
  stdin?: string;
}

const step = (line: string, stdin?: string): Step =>
  stdin === undefined ? { args: splitArgs(line) } : { args: splitArgs(line), stdin };

const steps: Step[] = [
  // put / get basics, with simple and JSON output
  step("put foo bar"),
  step("get foo"),
  step("get foo -w json"),
  step("put foo bar2 --prev-kv"),
  step("put foo bar3 --prev-kv -w json"),
  step("get missing"),
  step("get missing -w json"),
  ...["a 1", "b 2", "c 3", "d 4", "e 5", "a 11", "c 33"].map((kv) => step(`put ${kv}`)),
  // ranges, prefixes, from-key, limits
  step("get a d"),
  step("get a d -w json"),
  step("get a --from-key"),
  step("get a --from-key --limit=2 -w json"),
  step("get '' --prefix --keys-only"),
  step("get '' --prefix --limit=3 -w json"),
  step("get c --prefix --print-value-only"),
  step("get a --prefix --count-only -w json"),
  step("get '' --prefix --count-only -w json"),
  // sorts
  step("get '' --prefix --sort-by=MODIFY --order=DESCEND"),
  step("get '' --prefix --sort-by=VERSION --order=DESCEND -w json"),
  step("get '' --prefix --sort-by=CREATE --order=ASCEND"),
  step("get '' --prefix --sort-by=VALUE --order=DESCEND"),
  step("get '' --prefix --sort-by=KEY --order=DESCEND"),
  step("get '' --prefix --sort-by=MODIFY"),
  step("get '' --prefix --order=DESCEND --limit=2 -w json"),
  // revision filters and historical reads
  step("get '' --prefix --min-mod-revision=5 --max-mod-revision=8 -w json"),
  step("get '' --prefix --min-create-revision=3 --max-create-revision=5"),
  step("get foo --rev=2"),
  step("get foo --rev=3 -w json"),
  step("get a --rev=4 -w json"),
  step("get foo --rev=1000"),
  step("get foo --consistency=s"),
  // put flags and their errors
  step("put foo --ignore-value"),
  step("get foo -w json"),
  step("put missing --ignore-value"),
  step("put foo new --ignore-lease"),
  step("put foo v --lease=1234"),
  step("put '' v"),
  step("get ''"),
  // deletes
  step("del a"),
  step("del a"),
  step("del b --prev-kv"),
  step("del c --prefix -w json"),
  step("del nothing -w json"),
  step("get '' --prefix -w json"),
  step("put a again"),
  step("del a e --prev-kv -w json"),
  step("put x1 1"),
  step("put x2 2"),
  step("del x --from-key"),
  step("get '' --from-key -w json"),
  // txn: every compare target, both branches, json output
  step("txn", 'value("foo") = "new"\n\nput foo t1\nget foo\n\nput foo t2\n'),
  step("txn -w json", 'version("foo") > "100"\n\nput foo never\n\nget foo\nput other o\n'),
  step("txn -w json", 'create("nokey") = "0"\nmod("foo") > "1"\n\nput nokey created\ndel other\n\n'),
  step("txn", 'value("absent") = "x"\n\nput absent y\n\nput absent z\n'),
  step("txn", 'mod("foo") < "2"\n\n\nget foo -w json\n'),
  step("txn -w json", 'value("foo") != "t1"\n\nput foo ne\n\nput foo eq\n'),
  step("txn", "\nput p1 v\nput p1 w\n\n"),
  step("txn", 'value("") = "x"\n\nput q 1\n\n'),
  // compaction
  step("put k v1"),
  step("put k v2"),
  step("put k v3"),
  step("compaction 5"),
  step("get foo --rev=4"),
  step("get foo --rev=5 -w json"),
  step("compaction 5"),
  step("compaction 3"),
  step("compaction 100000"),
  step("compaction --physical 8"),
  step("get k --rev=7"),
  step("get k -w json"),
  step("get '' --prefix"),
];

describe("etcdctl 3.4 against etcd 3.4 and Keyway: KV, txn, compaction", () => {
  let pair: ServerPair;
  beforeAll(async () => {
    pair = await startPair();
  });
  afterAll(async () => {
    await pair?.close();
  });

  for (const [i, s] of steps.entries()) {
    it(`#${i} etcdctl ${s.args.join(" ")}`, () => {
      const expected = normalise(etcdctl(pair.etcd.endpoints[0] as string, s.args, s.stdin));
      const actual = normalise(etcdctl(pair.keyway.endpoint, s.args, s.stdin));
      expect(actual).toEqual(expected);
    });
  }
});
