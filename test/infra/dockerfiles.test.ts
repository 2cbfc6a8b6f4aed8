// Lints the container images' Dockerfiles: hadolint when installed (HADOLINT_BIN, or hadolint on
// PATH), otherwise the documented checklist in support/dockerfile-checklist.ts. Both run the checklist.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { BUILD_CONTEXT_EXCLUDE, REPOSITORY_ROOT } from "../../infra/lib/constructs/application-images.ts";
import { checkDockerfile, type ChecklistOptions } from "./support/dockerfile-checklist.ts";
import { synthesized } from "./support/synthesized.ts";

const dockerfiles: Record<string, ChecklistOptions> = {
  "infra/docker/worker-gpu.Dockerfile": { gpu: true, verifiesModels: true },
  "infra/docker/worker-cpu.Dockerfile": { cpuOnly: true, verifiesModels: true },
  "infra/docker/api-lambda.Dockerfile": { cpuOnly: true, healthcheckNoneAllowed: true },
};

/** hadolint's path: $HADOLINT_BIN, else the first `hadolint` on PATH; undefined when absent. */
function hadolintPath(): string | undefined {
  const candidates = [process.env["HADOLINT_BIN"], ...(process.env["PATH"] ?? "").split(path.delimiter).map((d) => path.join(d, "hadolint"))];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

describe("Dockerfiles", () => {
  for (const [file, options] of Object.entries(dockerfiles)) {
    test(`should pass the checklist${hadolintPath() ? " and hadolint" : ""} when linting ${path.basename(file)}`, () => {
      const text = fs.readFileSync(path.join(REPOSITORY_ROOT, file), "utf8");
      assert.deepEqual(checkDockerfile(text, options), []);
      const hadolint = hadolintPath();
      if (hadolint) {
        const r = spawnSync(hadolint, ["--failure-threshold", "warning", path.join(REPOSITORY_ROOT, file)], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
      }
    });
  }

  test("should give a manual docker build the same context allow-list as cdk deploy", () => {
    for (const file of Object.keys(dockerfiles)) {
      const lines = fs.readFileSync(path.join(REPOSITORY_ROOT, `${file}.dockerignore`), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
      assert.deepEqual(lines, BUILD_CONTEXT_EXCLUDE, file);
    }
  });

  test("should make every file the images copy or run exist in the repository", () => {
    for (const f of [".npmrc", "infra/docker/worker-entrypoint.sh", "infra/lib/runtime/lambda-secrets-bootstrap.ts", "app/worker.ts", "app/db-migrate.ts", "scripts/generate.sh"]) {
      assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, f)), f);
    }
    assert.ok(fs.statSync(path.join(REPOSITORY_ROOT, "infra/docker/worker-entrypoint.sh")).mode & 0o111, "entrypoint must be executable");
  });

  test("should ship the web viewer the API Lambda serves: app/viewer in the build context, graphql-ws's browser build kept by the production install", () => {
    assert.ok(BUILD_CONTEXT_EXCLUDE.includes("!app"), "app/ (app/viewer/ with it) is in the build context");
    assert.ok(!BUILD_CONTEXT_EXCLUDE.some((p) => p.startsWith("app/") || p.includes("viewer")), "nothing excludes the viewer again");
    for (const f of ["app/viewer/index.html", "app/viewer/viewer.css", "app/viewer/viewer.js"]) assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, f)), f);
    // The image runs `npm prune --omit=dev`: graphql-ws (whose umd/ build is /viewer/vendor/graphql-ws.js) must be a dependency.
    const pkg = JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    assert.ok(pkg.dependencies["graphql-ws"], "graphql-ws is a production dependency");
    assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, "node_modules/graphql-ws/umd/graphql-ws.min.js")));
  });

  test("should back every Lambda handler the stack names with a bootstrap module that imports an existing app entry exporting handler", () => {
    const { dev, prod } = synthesized();
    const handlers = new Set([prod, dev].flatMap(({ template }) => Object.values(template.findResources("AWS::Lambda::Function"))
      .filter((fn) => fn["Properties"]["PackageType"] === "Image")
      .map((fn) => String(fn["Properties"]["ImageConfig"]["Command"][0]))));
    assert.deepEqual([...handlers].sort(), ["lambda-outbox-relay.handler", "lambda-websocket.handler", "lambda.handler"]);
    for (const handler of handlers) {
      // `<module>.handler`: the Dockerfile copies infra/docker/lambda/<module>.mjs into the task root.
      const bootstrap = `infra/docker/lambda/${handler.replace(/\.handler$/, "")}.mjs`;
      assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, bootstrap)), bootstrap);
      const entry = /await import\("\.\/(app\/[\w-]+\.ts)"\)/.exec(fs.readFileSync(path.join(REPOSITORY_ROOT, bootstrap), "utf8"))?.[1];
      assert.ok(entry, `${bootstrap} imports no app/ entry`);
      assert.ok(fs.existsSync(path.join(REPOSITORY_ROOT, entry)), `${bootstrap} imports ${entry}, which does not exist`);
      assert.match(fs.readFileSync(path.join(REPOSITORY_ROOT, entry), "utf8"), /^export const handler = /m, `${entry} exports no handler`);
    }
  });
});

describe("Dockerfile checklist", () => {
  const good = [
    "FROM node:20.19.5-bookworm-slim AS build",
    "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
    "ENV ONNXRUNTIME_NODE_INSTALL=skip",
    "RUN npm ci && ls | wc -l",
    "FROM node:20.19.5-bookworm-slim",
    "COPY --from=build /app /app",
    "USER node",
    "HEALTHCHECK CMD [\"node\", \"-e\", \"1\"]",
    "CMD [\"node\", \"app.js\"]",
  ];
  const findingsOf = (lines: string[], options: ChecklistOptions = { cpuOnly: true }) => checkDockerfile(lines.join("\n"), options).map((f) => f.rule);

  test("should find nothing when a Dockerfile follows every rule", () => {
    assert.deepEqual(findingsOf(good), []);
  });

  const broken: [string, (lines: string[]) => string[], string][] = [
    ["non-root", (l) => l.filter((x) => !x.startsWith("USER")), "the final stage has no USER"],
    ["non-root", (l) => l.map((x) => (x.startsWith("USER") ? "USER root" : x)), "the final stage runs as root"],
    ["healthcheck", (l) => l.filter((x) => !x.startsWith("HEALTHCHECK")), "there is no HEALTHCHECK"],
    ["pinned-base", (l) => l.map((x, i) => (i === 4 ? "FROM node:latest" : x)), "the base image is :latest"],
    ["pinned-base", (l) => l.map((x, i) => (i === 0 ? "FROM node AS build" : x)), "the base image has no tag"],
    ["pipefail", (l) => l.filter((x) => !x.startsWith("SHELL")), "a RUN pipes without pipefail"],
    ["npm-ci", (l) => l.map((x) => x.replace("npm ci", "npm install")), "dependencies come from npm install"],
    ["no-secrets", (l) => [...l, "ENV AWS_SECRET_ACCESS_KEY=abc"], "an ENV carries a secret"],
    ["exec-form", (l) => l.map((x) => (x.startsWith("CMD") ? "CMD node app.js" : x)), "CMD uses the shell form"],
    ["add-urls-only", (l) => [...l, "ADD app.tar /app"], "ADD copies a local file"],
    ["onnxruntime-skip", (l) => l.filter((x) => !x.includes("ONNXRUNTIME")), "a CPU image downloads the CUDA provider"],
  ];
  for (const [rule, mutate, condition] of broken) {
    test(`should report ${rule} when ${condition}`, () => {
      assert.ok(findingsOf(mutate(good)).includes(rule), findingsOf(mutate(good)).join());
    });
  }

  test("should report gpu-base, onnxruntime-cuda and models-sha256 when a GPU image lacks them", () => {
    assert.deepEqual(findingsOf(good, { gpu: true, verifiesModels: true }).sort(), ["gpu-base", "models-sha256", "onnxruntime-cuda"]);
  });
});
