import { health } from "@keyway/api";
import { type ServiceHandlers, unary } from "./unary.js";

/**
 * The standard gRPC health service, as etcd registers it. A member that serves requests is
 * SERVING; it stops answering when it shuts down.
 */
export function healthService(): ServiceHandlers<health.HealthServer, "check"> {
  return {
    check: unary(() => ({ status: health.HealthCheckResponse_ServingStatus.SERVING })),
  };
}
