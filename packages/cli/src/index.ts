import { Command } from "commander";
import { registerServe } from "./serve.js";

/** Entry point of the `keyway` command. */
export async function main(argv: string[]): Promise<void> {
  const program = new Command("keyway").description("Keyway: an etcd v3-compatible store for Node.js");
  registerServe(program);
  await program.parseAsync(argv);
}
