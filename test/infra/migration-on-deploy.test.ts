// The migration trigger re-runs exactly when the migration image changes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import { MigrationOnDeploy } from "../../infra/lib/constructs/migration-on-deploy.ts";

// aws-cdk-lib's built-in CloudFormation Validate plugin (a schema linter whose findings are warnings)
// costs ~20 s of CPU per process; `npm run infra:synth` keeps running it. cdk-nag still runs here.
process.env["CDK_VALIDATION"] = "false";

/** The trigger's HandlerArn (a function version) for a given image hash. */
function triggerHandlerFor(imageHash: string): string {
  const stack = new Stack(new App(), "probe", { env: { region: "eu-west-1", account: "123456789012" } });
  const vpc = new ec2.Vpc(stack, "Vpc", { availabilityZones: ["eu-west-1a", "eu-west-1b"], natGateways: 1 });
  const cluster = new ecs.Cluster(stack, "Cluster", { vpc });
  new MigrationOnDeploy(stack, "Migration", {
    cluster, vpc, securityGroup: new ec2.SecurityGroup(stack, "Sg", { vpc }), imageHash,
    container: { image: ecs.ContainerImage.fromRegistry("public.ecr.aws/docker/library/node:20.19.5") }, executeAfter: [],
  });
  const triggers = Object.values(Template.fromStack(stack).findResources("Custom::Trigger"));
  assert.equal(triggers.length, 1);
  return JSON.stringify(triggers[0]!["Properties"]["HandlerArn"]);
}

test("should point the trigger at a new function version when the migration image changes", () => {
  const a = triggerHandlerFor("a".repeat(64));
  assert.equal(triggerHandlerFor("a".repeat(64)), a, "same image, same version: no re-run");
  assert.notEqual(triggerHandlerFor("b".repeat(64)), a, "new image, new version: the trigger runs again");
});
