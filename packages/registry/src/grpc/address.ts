import { experimental } from "@grpc/grpc-js";
import type { Instance } from "../instance.js";

/** A TCP address grpc-js can connect a subchannel to. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where grpc-js reaches an instance: the host of its `address` with the named port `portName`
 * when the instance has one (`ports: { grpc: 50051 }`), else the port written in `address`
 * (`host:port`, `[v6]:port` or a URL with a port). Undefined when neither gives a port.
 */
export function grpcAddressOf(instance: Instance, portName: string): HostPort | undefined {
  const hostPort = splitAddress(instance.address);
  if (hostPort === undefined) return undefined;
  const port = Object.hasOwn(instance.ports, portName) ? instance.ports[portName] : hostPort.port;
  return port === undefined ? undefined : { host: hostPort.host, port };
}

/** `host[:port]`, `[v6][:port]` or `scheme://host[:port]/...` split into host and optional port. */
function splitAddress(address: string): { host: string; port: number | undefined } | undefined {
  if (address.includes("://")) {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return undefined;
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    return host === "" ? undefined : { host, port: url.port === "" ? undefined : Number(url.port) };
  }
  const split = experimental.splitHostPort(address);
  return split === null || split.host === "" ? undefined : { host: split.host, port: split.port };
}
