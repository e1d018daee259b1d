#!/usr/bin/env node
import { main } from "../dist/index.js";

try {
  await main(process.argv);
} catch (error) {
  console.error(`keyway: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
