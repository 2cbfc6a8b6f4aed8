// Small queries over synthesized CloudFormation templates that Template's matchers do not cover.
import type { Template } from "aws-cdk-lib/assertions";

/** One IAM policy statement as synthesized. */
export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** The single resource of a type whose logical id starts with `prefix`. */
export function resourceByPrefix(template: Template, type: string, prefix: string): { id: string; props: Record<string, any>; dependsOn: string[] } {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${found.map(([id]) => id).join(", ") || "none"}`);
  const [id, r] = found[0]!;
  const dependsOn = r["DependsOn"];
  return { id, props: (r["Properties"] ?? {}) as Record<string, any>, dependsOn: Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : [] };
}

/** Statements of every AWS::IAM::Policy attached (by Roles) to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(template.findResources("AWS::IAM::Policy"))
    .filter((p) => JSON.stringify(p["Properties"]["Roles"]).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p["Properties"]["PolicyDocument"]["Statement"] as Statement[]);
}

/** Every statement of every inline policy in the template, with its policy's logical id. */
export function allStatements(template: Template): { policyId: string; statement: Statement }[] {
  return Object.entries(template.findResources("AWS::IAM::Policy"))
    .flatMap(([policyId, p]) => (p["Properties"]["PolicyDocument"]["Statement"] as Statement[]).map((statement) => ({ policyId, statement })));
}

/** Actions of a statement as an array. */
export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

/** The container environment (name → value) of a task definition's first container. */
export function containerEnvironment(taskDefinitionProps: Record<string, any>): Record<string, unknown> {
  const container = taskDefinitionProps["ContainerDefinitions"][0];
  return Object.fromEntries((container["Environment"] ?? []).map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
}
