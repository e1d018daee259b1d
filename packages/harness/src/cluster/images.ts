import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { DOCKER_BIN, docker } from "./docker-cli.js";
import { ETCD_BIN, REPO_ROOT } from "./member-args.js";
import type { Target } from "./types.js";

const run = promisify(execFile);

/** Bumped when the rootfs layout changes, so cached images of an older layout are not reused. */
const LAYOUT_VERSION = "1";

/**
 * The host binaries whose shared libraries a target's image needs: etcd alone, or node plus the
 * native addons (`*.node`) of the repository's node_modules (the repository itself is
 * bind-mounted read-only at run time, so a rebuild of dist/ needs no new image).
 */
async function binariesOf(target: Target): Promise<string[]> {
  if (target === "etcd") return [ETCD_BIN];
  const { stdout } = await run("find", [`${REPO_ROOT}node_modules/.pnpm`, "-name", "*.node", "-type", "f"], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return [process.execPath, ...stdout.split("\n").filter((line) => line !== "")];
}

/**
 * The shared libraries (and the loader) the binaries need, sorted and deduplicated. A static
 * binary or another platform's addon adds none; a library not found on the host is skipped (the
 * addon is then for another libc, and its loader falls back to the next candidate).
 */
async function sharedLibraries(binaries: readonly string[]): Promise<string[]> {
  const libs = new Set<string>();
  for (const binary of binaries) {
    let stdout: string;
    try {
      ({ stdout } = await run("ldd", [binary]));
    } catch {
      continue; // "not a dynamic executable"
    }
    for (const line of stdout.split("\n")) {
      const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
      if (match?.[1] !== undefined && !binaries.includes(match[1])) libs.add(match[1]);
    }
  }
  return [...libs].sort();
}

/** A content hash of the files (path and bytes) plus the layout version. */
function contentHash(files: readonly string[]): string {
  const hash = createHash("sha256").update(LAYOUT_VERSION);
  for (const file of files) hash.update(file).update("\0").update(readFileSync(file));
  return hash.digest("hex").slice(0, 16);
}

/** Pipes `tar -c` of `root` into `docker import`, tagging the result. */
function importRootfs(root: string, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn("tar", ["-C", root, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    const imp = spawn(DOCKER_BIN, ["import", "-", tag], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    imp.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    tar.stdout?.pipe(imp.stdin as NodeJS.WritableStream);
    tar.once("error", reject);
    imp.once("error", reject);
    imp.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`docker import ${tag} exited ${code}: ${stderr}`)),
    );
  });
}

/** Tags this process already ensured: hashing node and its libraries costs ~1.5 s per call. */
const ensured = new Map<Target, Promise<string>>();

/**
 * Builds (once per content hash) the image a target's members run, by `docker import` of a root
 * filesystem holding only the target's binary and its shared libraries, plus /data and /tmp.
 * No registry is needed. Resolves with the image tag; a cached image is reused as it is, and a
 * process asks the engine once per target.
 */
export function ensureImage(target: Target): Promise<string> {
  let tag = ensured.get(target);
  if (tag === undefined) {
    tag = buildImage(target);
    ensured.set(target, tag);
    tag.catch(() => ensured.delete(target)); // a failed build is tried again next time
  }
  return tag;
}

async function buildImage(target: Target): Promise<string> {
  const binaries = await binariesOf(target);
  // The image holds the program (etcd or node) and the libraries; addons stay in the mounted repo.
  const files = [binaries[0] as string, ...(await sharedLibraries(binaries))];
  const tag = `keyway-harness/${target}:${contentHash(files)}`;
  const existing = await docker(["images", "-q", tag]);
  if (existing !== "") return tag;
  const root = mkdtempSync(join(tmpdir(), `keyway-rootfs-${target}-`));
  try {
    for (const file of files) {
      mkdirSync(join(root, dirname(file)), { recursive: true });
      copyFileSync(file, join(root, file)); // follows symlinks: the image gets the real bytes
    }
    mkdirSync(join(root, "data"));
    mkdirSync(join(root, "tmp"));
    await importRootfs(root, tag);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tag;
}
