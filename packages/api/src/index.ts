export * from "./errors.js";
export * as authpb from "./gen/auth.pb.js";
export * as health from "./gen/health.pb.js";
export * as keywaypb from "./gen/internal.pb.js";
export * as mvccpb from "./gen/kv.pb.js";
export * as etcdserverpb from "./gen/rpc.pb.js";
export * as v3electionpb from "./gen/v3election.pb.js";
export * as v3lockpb from "./gen/v3lock.pb.js";
export * from "./keys.js";
