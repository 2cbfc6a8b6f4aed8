// CDK entry (`npm run infra:synth`, `npm run infra:cdk -- deploy coinseg-prod -c env=prod`):
// synthesises the environments named by the `env` context (comma-separated), all of them by default.
import { createCoinsegApp } from "../lib/coinseg-app.ts";
import { environments } from "../lib/config/environments.ts";

const { app } = createCoinsegApp({
  environments: Object.values(environments),
  // Run by the CLI, CDK_OUTDIR is set; run directly (npm run infra:synth), write ./cdk.out.
  outdir: process.env["CDK_OUTDIR"] ?? "cdk.out",
  defaultAccount: process.env["CDK_DEFAULT_ACCOUNT"],
});
app.synth();
