// Trigger handler (inline Lambda, Node 22 runtime's bundled AWS SDK v3): runs the migration task
// and waits for it; a non-zero exit fails the CloudFormation deployment.
const { ECSClient, RunTaskCommand, DescribeTasksCommand } = require("@aws-sdk/client-ecs");

const ecs = new ECSClient({});
const POLL_MS = 10000;

exports.handler = async () => {
  const env = process.env;
  const run = await ecs.send(new RunTaskCommand({
    cluster: env.CLUSTER_ARN,
    taskDefinition: env.TASK_DEFINITION_ARN,
    launchType: "FARGATE",
    count: 1,
    startedBy: "coinseg-migrate",
    networkConfiguration: { awsvpcConfiguration: { subnets: env.SUBNET_IDS.split(","), securityGroups: [env.SECURITY_GROUP_ID], assignPublicIp: "DISABLED" } },
  }));
  const task = run.tasks && run.tasks[0];
  if (!task || (run.failures && run.failures.length > 0)) throw new Error("RunTask failed: " + JSON.stringify(run.failures));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const out = await ecs.send(new DescribeTasksCommand({ cluster: env.CLUSTER_ARN, tasks: [task.taskArn] }));
    const t = out.tasks && out.tasks[0];
    if (t && t.lastStatus === "STOPPED") {
      const exitCode = t.containers && t.containers[0] ? t.containers[0].exitCode : undefined;
      if (exitCode !== 0) throw new Error("migration task " + task.taskArn + " stopped: exit " + exitCode + ", " + t.stoppedReason);
      return { taskArn: task.taskArn, exitCode };
    }
  }
};
