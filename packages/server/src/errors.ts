import { EtcdError, type EtcdErrorReason } from "@keyway/api";

/**
 * An etcd error raised inside the server (validation, apply, reads). The RPC layer turns it into
 * a gRPC status with etcd's exact code and message; `reason` names the entry of {@link EtcdError}.
 */
export class EtcdServerError extends Error {
  readonly reason: EtcdErrorReason;

  constructor(reason: EtcdErrorReason) {
    super(EtcdError[reason].message);
    this.name = "EtcdServerError";
    this.reason = reason;
  }

  /** gRPC status code for this error. */
  get code(): number {
    return EtcdError[this.reason].code;
  }
}
