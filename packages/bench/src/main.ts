#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from "commander";
import { type LoadSpec, runLoad } from "./load.js";

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError("must be a positive integer");
  return parsed;
}

const program = new Command("keyway-bench")
  .description("etcd-benchmark-style load against any etcd v3 endpoint; prints one JSON line")
  .requiredOption("--endpoint <url>", "http://host:port")
  .addOption(
    new Option("--workload <name>")
      .choices(["put", "range-linearizable", "range-serializable", "fill"])
      .default("put"),
  )
  .option("--clients <n>", "concurrent requesters", positiveInt, 1)
  .option("--conns <n>", "gRPC connections", positiveInt, 1)
  .option("--total <n>", "requests in all", positiveInt, 10_000)
  .option("--key-size <bytes>", "key size", positiveInt, 8)
  .option("--val-size <bytes>", "value size", positiveInt, 256)
  .action(async (flags) => {
    const spec: LoadSpec = {
      endpoint: flags.endpoint,
      workload: flags.workload,
      clients: flags.clients,
      conns: flags.conns,
      total: flags.total,
      keySizeBytes: flags.keySize,
      valueSizeBytes: flags.valSize,
    };
    const result = await runLoad(spec);
    console.log(JSON.stringify({ ...spec, ...result }));
  });

await program.parseAsync(process.argv);
