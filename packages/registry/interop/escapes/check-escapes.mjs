// Compares the registry's Dubbo key escaping with Java's URLEncoder and Go's url.QueryEscape on
// provider URLs and awkward characters: our encoding must equal Java's byte for byte, and our
// decoder must read both Java's and Go's encodings back to the original. Run by
// run-escape-check.sh (after `tsc -b`): node check-escapes.mjs <java output> <go output> <input>
import { readFileSync } from "node:fs";
import { dubboDecode, dubboEncode } from "../../dist/dubbo-url.js";

const [javaOut, goOut, input] = process.argv.slice(2).map((p) => readFileSync(p, "utf8").split("\n"));
let failures = 0;
input.forEach((line, i) => {
  if (line === "") return;
  const [java] = javaOut[i].split("\t");
  const [go] = goOut[i].split("\t");
  const ours = dubboEncode(line);
  const ok = ours === java && dubboDecode(java) === line && dubboDecode(go) === line;
  if (!ok) failures++;
  console.log(
    `${ok ? "ok  " : "FAIL"} ${JSON.stringify(line)} -> ${ours}${ours === java ? "" : ` (Java: ${java})`}`,
  );
});
if (failures > 0) throw new Error(`${failures} escaping mismatches`);
console.log("dubbo escaping: equal to java.net.URLEncoder, reads Java's and Go's encodings");
