// Synthesises the shipped environments once per test file and hands out their templates.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Template } from "aws-cdk-lib/assertions";
import { createCoinsegApp } from "../../../infra/lib/coinseg-app.ts";
import type { CoinsegStack } from "../../../infra/lib/coinseg-stack.ts";
import { environments } from "../../../infra/lib/config/environments.ts";

/** The dev (CPU, Fargate) and prod (GPU, ECS on EC2) stacks and their templates. */
export interface Synthesized {
  readonly dev: { readonly stack: CoinsegStack; readonly template: Template };
  readonly prod: { readonly stack: CoinsegStack; readonly template: Template };
}

// aws-cdk-lib's built-in CloudFormation Validate plugin (a schema linter whose findings are warnings)
// costs ~20 s of CPU per process; `npm run infra:synth` keeps running it. cdk-nag still runs here.
process.env["CDK_VALIDATION"] = "false";

let cached: Synthesized | undefined;

/** Synthesises both environments (with cdk-nag) into a temporary folder, once per process. */
export function synthesized(): Synthesized {
  if (cached) return cached;
  process.env["AWS_EC2_METADATA_DISABLED"] = "true";
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "coinseg-cdk-"));
  const { app, stacks } = createCoinsegApp({ environments: [environments["dev"]!, environments["prod"]!], outdir, defaultAccount: "123456789012" });
  app.synth();
  const [dev, prod] = stacks as [CoinsegStack, CoinsegStack];
  cached = {
    dev: { stack: dev, template: Template.fromJSON(readTemplate(outdir, dev.stackName)) },
    prod: { stack: prod, template: Template.fromJSON(readTemplate(outdir, prod.stackName)) },
  };
  process.on("exit", () => fs.rmSync(outdir, { recursive: true, force: true }));
  return cached;
}

function readTemplate(outdir: string, stackName: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.template.json`), "utf8")) as Record<string, unknown>;
}
