/**
 * Argument handling shared by the simulator and benchmark CLIs.
 */

/** Command-line arguments; a leading "--" (what `pnpm run x -- args` passes through) is skipped. */
export function cliArgs(): string[] {
  const args = process.argv.slice(2);
  return args[0] === "--" ? args.slice(1) : args;
}
