/**
 * JSON as Go's `encoding/json.Marshal` writes it for maps and plain values: object keys sorted,
 * no spaces, and `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`-style sequences (Go's
 * default HTML-safe escaping). Used so a value we write is byte for byte what a Go program
 * would write for the same data.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
