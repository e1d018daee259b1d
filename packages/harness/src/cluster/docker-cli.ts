import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * The docker client the harness drives. Debian's `/usr/bin/docker` matches Debian's engine, while a
 * newer client earlier on PATH (e.g. /usr/local/bin/docker) may shadow it; `KEYWAY_DOCKER` overrides.
 */
export const DOCKER_BIN =
  process.env.KEYWAY_DOCKER ?? (existsSync("/usr/bin/docker") ? "/usr/bin/docker" : "docker");

/** Longest one docker CLI call may take (a `docker kill` or `start` answers well within it). */
const DOCKER_CALL_TIMEOUT_MS = 60_000;

/** Runs `docker <args>` and resolves with its trimmed stdout; rejects with its stderr. */
export async function docker(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(DOCKER_BIN, [...args], {
      timeout: DOCKER_CALL_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`docker ${args.join(" ")} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

/** True when a Docker engine answers `docker info`. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await docker(["info", "--format", "{{.ServerVersion}}"]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the container scenarios can run here. With `CI=true` a missing engine is an error (CI
 * starts one with scripts/docker-engine.sh; its absence must fail the run, never skip it).
 * Elsewhere it resolves false, and callers fall back to process mode or skip.
 */
export async function requireDocker(): Promise<boolean> {
  if (await dockerAvailable()) return true;
  if (process.env.CI === "true") {
    throw new Error(
      `CI=true but no Docker engine answers ${DOCKER_BIN} info: run packages/harness/scripts/docker-engine.sh start`,
    );
  }
  return false;
}
