import { getContainerRuntimeClient } from "testcontainers";

// The harness talks to the engine on the local socket and starts no reaper container (none can be
// pulled here); it removes what it created itself, by id.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= "127.0.0.1";

/** A user-defined bridge network with a known /24, so members keep fixed addresses. */
export interface HarnessNetwork {
  readonly name: string;
  /** `a.b.c.` — member i gets `${prefix}${10 + i}`. */
  readonly prefix: string;
  remove(): Promise<void>;
}

/** Subnets tried before giving up: another run or the host may hold some of them. */
const SUBNET_ATTEMPTS = 8;

/**
 * Creates a bridge network named `name` on a free 10.x.y.0/24 picked from `seed`. Members are
 * reached from the host directly at their bridge addresses: no ports are published, so nothing
 * listens beyond this machine.
 */
export async function createNetwork(name: string, seed: number): Promise<HarnessNetwork> {
  const client = await getContainerRuntimeClient();
  let lastError: unknown;
  for (let attempt = 0; attempt < SUBNET_ATTEMPTS; attempt++) {
    const n = (Math.abs(seed) + attempt * 7919 + process.pid) % (55 * 256);
    const prefix = `10.${200 + Math.floor(n / 256)}.${n % 256}.`;
    try {
      const network = await client.network.create({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        IPAM: { Driver: "default", Config: [{ Subnet: `${prefix}0/24`, Gateway: `${prefix}1` }] },
        Labels: { "keyway.harness": "true" },
      });
      return { name, prefix, remove: () => client.network.remove(network) };
    } catch (err) {
      lastError = err; // most likely "Pool overlaps with other one on this address space"
    }
  }
  throw new Error(`no free subnet for network ${name}`, { cause: lastError });
}
