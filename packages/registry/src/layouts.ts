import { badRequest } from "./errors.js";
import { type KeyLayout, Layout, type LayoutName } from "./layout.js";
import { dubboLayout } from "./layout-dubbo.js";
import { goEndpointsLayout } from "./layout-go.js";

/** A layout by name (with its default options) or any {@link KeyLayout}. */
export type LayoutOption = LayoutName | KeyLayout;

/** The layout for an option; `keyway` uses the registry's `prefix`. */
export function resolveLayout(option: LayoutOption, prefix: string): KeyLayout {
  if (typeof option === "object" && option !== null) {
    for (const method of ["servicePrefix", "prepare", "instanceKey", "encode", "decode"] as const)
      if (typeof option[method] !== "function") throw badRequest(`a layout must have ${method}()`);
    return option;
  }
  switch (option) {
    case "keyway":
      return new Layout(prefix);
    case "go-endpoints":
      return goEndpointsLayout();
    case "dubbo":
      return dubboLayout();
    default:
      throw badRequest(`unknown layout ${JSON.stringify(option)}`);
  }
}
