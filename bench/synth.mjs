// Measures how long synthesizing every stack (bootstrap, and two per environment) takes, wall clock, as a person runs it:
// `npm run synth` (the README's command) and, with --cli, `npx cdktf synth`. Prints the figures; with
// --record also writes bench/results/synth.json (tracked), so a run never dirties the tree unasked.
//
//   npm run bench:synth                              # 10 runs of npm run synth
//   npm run bench:synth -- --runs 20 --cli --record  # and npx cdktf synth; keep the result
//
// (`npm run bench` runs this, then bench/analytics.ts.)

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, totalmem, tmpdir, platform, release } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: options } = parseArgs({
  options: { runs: { type: "string", default: "10" }, cli: { type: "boolean", default: false }, record: { type: "boolean", default: false } },
});
const runs = Number(options.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`error: --runs must be a whole number of at least 1, got ${JSON.stringify(options.runs)}`);
  process.exit(2);
}

/**
 * Runs `command` `runs` times, each into a fresh, empty output directory (CDKTF_OUTDIR for the app,
 * and `args(outdir)` for the CLI, which sets CDKTF_OUTDIR itself); returns wall times in ms.
 */
function time(label, command, args) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const outdir = mkdtempSync(join(tmpdir(), "pulse-bench-synth-"));
    const started = process.hrtime.bigint();
    const result = spawnSync(command, args(outdir), {
      cwd: root,
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: "1", DISABLE_VERSION_CHECK: "1" },
      encoding: "utf8",
    });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    rmSync(outdir, { recursive: true, force: true });
    if (result.status !== 0) {
      console.error(`error: ${label} failed (exit ${result.status}):\n${result.stderr}`);
      process.exit(1);
    }
    samples.push(elapsedMs);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  const summary = { command: label, runs, medianMs: round(median), minMs: round(samples[0]), maxMs: round(samples.at(-1)) };
  console.log(`${label}: median ${summary.medianMs} ms, min ${summary.minMs} ms, max ${summary.maxMs} ms over ${runs} runs`);
  return summary;
}

const round = (ms) => Math.round(ms);

const results = [time("npm run synth", "npm", () => ["run", "--silent", "synth"])];
if (options.cli) {
  results.push(time("npx cdktf synth", "npx", (outdir) => ["cdktf", "synth", "--output", outdir]));
}

const report = {
  measuredAt: new Date().toISOString(),
  machine: {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  },
  stacks: ["bootstrap", "dev-instance", "dev", "staging-instance", "staging", "prod-instance", "prod"],
  targetMs: 3000,
  results,
};
if (options.record) {
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(join(root, "bench", "results", "synth.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log("written: bench/results/synth.json");
} else {
  console.log("not recorded (add --record to write bench/results/synth.json)");
}
