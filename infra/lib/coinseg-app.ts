// Builds the CDK app: one CoinsegStack per selected environment, with cdk-nag's AwsSolutions checks.
import { App, Tags, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { CoinsegStack } from "./coinseg-stack.ts";
import type { EnvironmentConfig } from "./config/environment-config.ts";

/** Options of {@link createCoinsegApp}. */
export interface CoinsegAppOptions {
  /**
   * Environments that may be synthesised. The `env` context (`cdk … -c env=prod`, comma-separated)
   * narrows them by name; without it all of them are.
   */
  readonly environments: readonly EnvironmentConfig[];
  /** Cloud assembly folder; default: the CLI's CDK_OUTDIR, else a temporary folder. */
  readonly outdir?: string;
  /** Account for stacks whose config names none (CDK_DEFAULT_ACCOUNT); unset = environment-agnostic. */
  readonly defaultAccount?: string;
}

/**
 * The app and its stacks (`coinseg-<name>`), tagged `project=coinseg`, `environment=<name>`.
 * cdk-nag runs as a policy-validation plugin: an unacknowledged AwsSolutions finding fails synthesis
 * (acknowledgements, each with its reason, sit next to the construct they concern).
 */
export function createCoinsegApp(options: CoinsegAppOptions): { app: App; stacks: CoinsegStack[] } {
  const app = new App({ outdir: options.outdir });
  const stacks = selectEnvironments(options.environments, app.node.tryGetContext("env")).map((config) => {
    const stack = new CoinsegStack(app, `coinseg-${config.name}`, {
      config,
      env: { account: config.account ?? options.defaultAccount, region: config.region },
      description: `coinseg (${config.name}): COIN segmentation API, workers and data`,
      terminationProtection: config.database.deletionProtection,
    });
    Tags.of(stack).add("project", "coinseg");
    Tags.of(stack).add("environment", config.name);
    return stack;
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stacks };
}

function selectEnvironments(all: readonly EnvironmentConfig[], context: unknown): readonly EnvironmentConfig[] {
  const names = String(context ?? "").split(",").map((n) => n.trim()).filter(Boolean);
  if (names.length === 0) return all;
  const unknown = names.filter((n) => !all.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`unknown environment(s) ${unknown.join(", ")}; known: ${all.map((c) => c.name).join(", ")}`);
  return all.filter((c) => names.includes(c.name));
}
