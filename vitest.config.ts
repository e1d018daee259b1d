import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // In-process tests run the TypeScript sources; process tests run the built dist/ of the CLI.
    alias: {
      "@keyway/api": pkg("api"),
      "@keyway/raft": pkg("raft"),
      "@keyway/server": pkg("server"),
      "@keyway/client": pkg("client"),
      "@keyway/lock": pkg("lock"),
      "@keyway/registry": pkg("registry"),
      "@keyway/harness": pkg("harness"),
    },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
