// CDK entry (`npm run infra:synth`, `cdk deploy`): synthesises the environments named by the
// `env` context (comma-separated, e.g. `-c env=prod`), all of them by default.
import { createCoinsegApp } from "../lib/coinseg-app.ts";
import { environments } from "../lib/config/environments.ts";

const names = String(process.env["CDK_CONTEXT_JSON"] ? (JSON.parse(process.env["CDK_CONTEXT_JSON"]) as Record<string, unknown>)["env"] ?? "" : "")
  .split(",").map((s) => s.trim()).filter(Boolean);
const unknown = names.filter((n) => !(n in environments));
if (unknown.length > 0) throw new Error(`unknown environment(s) ${unknown.join(", ")}; known: ${Object.keys(environments).join(", ")}`);
const selected = (names.length > 0 ? names : Object.keys(environments)).map((n) => environments[n]!);

const { app } = createCoinsegApp({
  environments: selected,
  // Run by the CLI, CDK_OUTDIR is set; run directly (npm run infra:synth), write ./cdk.out.
  outdir: process.env["CDK_OUTDIR"] ?? "cdk.out",
  defaultAccount: process.env["CDK_DEFAULT_ACCOUNT"],
});
app.synth();
