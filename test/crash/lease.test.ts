import { afterAll, describe, expect, it } from "vitest";
import { etcdctl } from "../support/etcdctl.js";
import { type KeywayProcess, startKeywayProcess } from "../support/keyway-process.js";

/**
 * Leases across kill -9: the lease table and key attachments are rebuilt from the backend on
 * restart, remaining leases get their full TTL again (plus an election timeout, as etcd's
 * Promote), keys of an unrenewed lease go when it runs out after that, and a lease revoked
 * before the kill stays revoked.
 */
const SHORT_TTL_SECONDS = 4;

/** etcdctl against the member; fails the test on a non-zero exit. */
function ctl(member: KeywayProcess, ...args: string[]): string {
  const result = etcdctl(member.endpoint, args);
  if (result.status !== 0) throw new Error(`etcdctl ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

function grant(member: KeywayProcess, ttlSeconds: number): string {
  const match = /lease ([0-9a-f]+) granted/.exec(ctl(member, "lease", "grant", String(ttlSeconds)));
  if (match?.[1] === undefined) throw new Error("no lease id");
  return match[1];
}

const keys = (member: KeywayProcess) =>
  ctl(member, "get", "", "--prefix", "--keys-only").split("\n").filter(Boolean);

describe("crash: leases survive kill -9", () => {
  let member: KeywayProcess | undefined;
  afterAll(async () => {
    await member?.close();
  });

  it("keeps live leases and their keys, expires them after a full TTL, keeps revoked ones revoked", async () => {
    member = await startKeywayProcess();
    const { dataDir } = member;
    const port = Number(new URL(member.endpoint).port);
    const short = grant(member, SHORT_TTL_SECONDS);
    ctl(member, "put", "a1", "v", `--lease=${short}`);
    ctl(member, "put", "a2", "v", `--lease=${short}`);
    const revoked = grant(member, 60);
    ctl(member, "put", "b", "v", `--lease=${revoked}`);
    ctl(member, "lease", "revoke", revoked);
    const long = grant(member, 60);
    ctl(member, "put", "c", "v", `--lease=${long}`);
    ctl(member, "put", "plain", "v");

    await member.kill();
    member = await startKeywayProcess({ dataDir, port });
    const restartedAt = Date.now();

    expect(keys(member)).toEqual(["a1", "a2", "c", "plain"]);
    expect(ctl(member, "lease", "timetolive", short, "--keys")).toMatch(
      new RegExp(
        `granted with TTL\\(${SHORT_TTL_SECONDS}s\\), remaining\\(\\d+s\\), attached keys\\(\\[a1 a2\\]\\)`,
      ),
    );
    expect(ctl(member, "lease", "timetolive", revoked)).toMatch(/already expired/);
    expect(ctl(member, "lease", "list").split("\n").slice(1).filter(Boolean).sort()).toEqual(
      [short, long].sort(),
    );
    expect(etcdctl(member.endpoint, ["put", "x", "v", `--lease=${revoked}`]).stderr).toMatch(
      /requested lease not found/,
    );

    // Nobody renews the short lease: its keys go, but only after a full TTL from the restart.
    const deadline = restartedAt + 15_000;
    while (keys(member).includes("a1")) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(Date.now() - restartedAt).toBeGreaterThanOrEqual((SHORT_TTL_SECONDS - 0.5) * 1000);
    expect(keys(member)).toEqual(["c", "plain"]);
    expect(ctl(member, "lease", "timetolive", short)).toMatch(/already expired/);

    // The expiry was a log entry: it is still in effect after another kill -9.
    await member.kill();
    member = await startKeywayProcess({ dataDir, port });
    expect(keys(member)).toEqual(["c", "plain"]);
    expect(ctl(member, "lease", "list")).toBe(`found 1 leases\n${long}\n`);
  }, 60_000);
});
