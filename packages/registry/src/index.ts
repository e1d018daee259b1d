export type { DownPolicy, Outcome, Picked } from "./balancer.js";
export { type DiscoverOptions, Discovery, type DiscoveryEvents } from "./discovery.js";
export { RegistryError, type RegistryErrorReason } from "./errors.js";
export type { InstanceFilter } from "./filter.js";
export {
  type Instance,
  type InstanceInput,
  type InstanceStatus,
  type InstanceUpdate,
  MAX_METADATA_BYTES,
  MAX_NAME_BYTES,
  MAX_WEIGHT,
  VALUE_FORMAT,
} from "./instance.js";
export { DEFAULT_PREFIX, type KeyLayout, type LayoutName } from "./layout.js";
export { type DubboOptions, dubboLayout } from "./layout-dubbo.js";
export { type GoEndpointsOptions, goEndpointsLayout } from "./layout-go.js";
export type { LayoutOption } from "./layouts.js";
export {
  type Candidate,
  createInstancePicker,
  type PickerName,
  PowerOfTwoPicker,
  RandomPicker,
  type RandomSource,
  SmoothWeightedPicker,
} from "./pickers.js";
export type { ProtectThreshold } from "./protect.js";
export {
  MAX_TTL_SECONDS,
  MIN_TTL_SECONDS,
  type RegisterCause,
  type RegisterOptions,
  Registration,
  type RegistrationEvents,
} from "./registration.js";
export { type Registry, type RegistryOptions, registry } from "./registry.js";
export { type DeregisterOnSignalsOptions, deregisterOnSignals, type SignalHandlers } from "./signals.js";
export type { ZoneAffinity } from "./zone.js";
