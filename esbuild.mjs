// Bundles the extension (client/src/extension.ts → dist/extension.js) and, with --tests, the
// pure unit tests (tests/client/*.test.ts → out/tests/). Types are checked by `tsc --noEmit`.
import { build, context } from "esbuild";
import { readdirSync } from "node:fs";

const args = new Set(process.argv.slice(2));
const production = args.has("--production");

/** @type {import("esbuild").BuildOptions} */
const extension = {
  entryPoints: ["client/src/extension.ts"],
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node18",
  outfile: "dist/extension.js",
  external: ["vscode"],
  sourcemap: !production,
  minify: production,
  logLevel: "warning",
};

/** @type {import("esbuild").BuildOptions} */
const tests = {
  entryPoints: readdirSync("tests/client")
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => `tests/client/${f}`),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node18",
  outdir: "out/tests",
  // Unit tests cover pure modules only; importing `vscode` from one is a mistake worth a failure.
  external: [],
  sourcemap: "inline",
  logLevel: "warning",
};

if (args.has("--tests")) {
  await build(tests);
} else if (args.has("--watch")) {
  const ctx = await context(extension);
  await ctx.watch();
} else {
  await build(extension);
}
