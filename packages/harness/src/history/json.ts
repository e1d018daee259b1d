import type { History } from "./types.js";

/** Key of the object that stands for a bigint in a saved history: `{ "$bigint": "123" }`. */
const BIGINT = "$bigint";

/**
 * A history as JSON text (bigints as `{ "$bigint": "…" }`), to save next to a failing run's
 * seed and judge again later with {@link parseHistory}.
 */
export function serializeHistory(history: History): string {
  return JSON.stringify(history, (_key, value: unknown) =>
    typeof value === "bigint" ? { [BIGINT]: value.toString() } : value,
  );
}

/** Reads a history written by {@link serializeHistory}. */
export function parseHistory(text: string): History {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && BIGINT in value) {
      return BigInt((value as Record<string, string>)[BIGINT] ?? "0");
    }
    return value;
  }) as History;
}
