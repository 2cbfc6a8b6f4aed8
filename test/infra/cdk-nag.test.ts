// cdk-nag's AwsSolutions pack gates synthesis: an unacknowledged finding fails it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { App, Stack, Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";

// aws-cdk-lib's built-in CloudFormation Validate plugin (a schema linter whose findings are warnings)
// costs ~20 s of CPU per process; `npm run infra:synth` keeps running it. cdk-nag still runs here.
process.env["CDK_VALIDATION"] = "false";

function appWithQueue(acknowledge: boolean): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "coinseg-nag-")) });
  const stack = new Stack(app, "nag-probe", { env: { region: "eu-west-1" } });
  const queue = new sqs.Queue(stack, "Plain", { encryption: sqs.QueueEncryption.UNENCRYPTED });
  if (acknowledge) {
    Validations.of(queue).acknowledge(
      { id: "AwsSolutions-SQS2", reason: "probe: encryption deliberately off in this test." },
      { id: "AwsSolutions-SQS3", reason: "probe: no dead-letter queue in this test." },
      { id: "AwsSolutions-SQS4", reason: "probe: no TLS-only policy in this test." },
    );
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

test("should fail synthesis when an AwsSolutions finding is not acknowledged", () => {
  const app = appWithQueue(false);
  assert.throws(() => app.synth(), /Validation failed/);
  const report = JSON.parse(fs.readFileSync(path.join(app.outdir, "validation-report.json"), "utf8")) as { pluginReports: { violations: { ruleName: string }[] }[] };
  const rules = report.pluginReports.flatMap((p) => p.violations.map((v) => v.ruleName));
  assert.ok(rules.some((r) => r.includes("AwsSolutions-SQS2")), rules.join());
  fs.rmSync(app.outdir, { recursive: true, force: true });
});

test("should synthesise when every finding is acknowledged with a reason", () => {
  const app = appWithQueue(true);
  assert.doesNotThrow(() => app.synth());
  fs.rmSync(app.outdir, { recursive: true, force: true });
});
