// The Dockerfile checklist used when hadolint is not installed (it is not packaged in Debian 12).
// Each rule names the hadolint rule or practice it stands in for. Documented in docs/DEPLOY.md.

/** One parsed instruction: keyword (upper case), its arguments, and the build stage it belongs to. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly stage: number;
  readonly line: number;
}

/** A checklist finding. */
export interface Finding {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}

/** Splits a Dockerfile into instructions, joining `\` continuations and dropping comments. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let buffer = "";
  let startLine = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    if (buffer === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (buffer === "") startLine = i + 1;
    if (line.trimStart().startsWith("#")) return;
    buffer += (buffer ? " " : "") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) return;
    const m = /^(\w+)\s*(.*)$/s.exec(buffer);
    buffer = "";
    if (!m) return;
    const keyword = m[1]!.toUpperCase();
    if (keyword === "FROM") stage++;
    out.push({ keyword, args: m[2]!, stage, line: startLine });
  });
  return out;
}

/** What an image must additionally prove (GPU image: CUDA base and the CUDA provider install). */
export interface ChecklistOptions {
  /** Require an `nvidia/cuda:*-runtime*` final base and the onnxruntime-node CUDA 12 install step. */
  readonly gpu?: boolean;
  /** Require the onnxruntime-node CUDA download to be skipped (CPU and API images). */
  readonly cpuOnly?: boolean;
  /** Require the baked-in models' sha256 verification step. */
  readonly verifiesModels?: boolean;
  /** Allow `HEALTHCHECK NONE` (Lambda images: the service checks the function). */
  readonly healthcheckNoneAllowed?: boolean;
}

/**
 * Checks a Dockerfile against the checklist:
 * - pinned-base (DL3006/DL3007): every external FROM has an explicit tag other than `latest` or a digest;
 * - non-root (DL3002): the final stage's last USER is neither root nor 0;
 * - healthcheck: the final stage declares a HEALTHCHECK (CMD, or NONE where allowed);
 * - exec-form (DL3025): ENTRYPOINT and CMD use the JSON (exec) form;
 * - pipefail (DL4006): a stage whose RUN uses a pipe sets `SHELL [..., "-o", "pipefail", ...]` first;
 * - npm-ci (DL3016-like): dependencies are installed with `npm ci`, never `npm install`;
 * - no-secrets: no ENV/ARG that names a secret, no AWS access key ids, no private keys;
 * - add-urls-only (DL3020): ADD only for URLs, COPY for local files;
 * - no-sudo (DL3004), apt-no-recommends (DL3015);
 * - gpu-base / onnxruntime-cuda / onnxruntime-skip / models-sha256: per {@link ChecklistOptions}.
 */
export function checkDockerfile(text: string, options: ChecklistOptions = {}): Finding[] {
  const ins = parseDockerfile(text);
  const findings: Finding[] = [];
  const add = (rule: string, line: number, message: string) => findings.push({ rule, line, message });
  const stageNames = new Set<string>();
  const finalStage = Math.max(...ins.map((i) => i.stage));
  for (const i of ins.filter((x) => x.keyword === "FROM")) {
    const [image = "", , alias] = i.args.replace(/--platform=\S+\s+/, "").split(/\s+/);
    if (!stageNames.has(image)) {
      const pinned = /@sha256:[0-9a-f]{64}$/.test(image) || (/:[^/]+$/.test(image) && !/:latest$/.test(image));
      if (!pinned) add("pinned-base", i.line, `base image ${image} has no pinned tag or digest`);
    }
    if (alias) stageNames.add(alias);
  }
  const final = ins.filter((i) => i.stage === finalStage);
  const user = final.filter((i) => i.keyword === "USER").at(-1);
  if (!user) add("non-root", final[0]?.line ?? 1, "final stage sets no USER (runs as root)");
  else if (/^(root|0)(:|$)/.test(user.args.trim())) add("non-root", user.line, "final stage runs as root");
  const health = final.filter((i) => i.keyword === "HEALTHCHECK").at(-1);
  if (!health) add("healthcheck", final[0]?.line ?? 1, "final stage declares no HEALTHCHECK");
  else if (/^NONE\b/i.test(health.args) && !options.healthcheckNoneAllowed) add("healthcheck", health.line, "HEALTHCHECK NONE where a health check is required");
  for (const i of ins) {
    if ((i.keyword === "CMD" || i.keyword === "ENTRYPOINT") && !i.args.trim().startsWith("[")) add("exec-form", i.line, `${i.keyword} in shell form`);
    if (i.keyword === "HEALTHCHECK" && /\bCMD\s+(?!\[)/.test(i.args)) add("exec-form", i.line, "HEALTHCHECK CMD in shell form");
    if (i.keyword === "RUN") {
      if (/\|(?!\|)/.test(i.args.replace(/\|\|/g, "")) && !ins.some((s) => s.keyword === "SHELL" && s.stage === i.stage && s.line < i.line && /pipefail/.test(s.args))) {
        add("pipefail", i.line, "RUN with a pipe but no SHELL with -o pipefail in this stage");
      }
      if (/\bnpm\s+(install|i)\b/.test(i.args)) add("npm-ci", i.line, "npm install instead of npm ci");
      if (/\bsudo\b/.test(i.args)) add("no-sudo", i.line, "sudo in RUN");
      if (/apt-get\s+install/.test(i.args) && !/--no-install-recommends/.test(i.args)) add("apt-no-recommends", i.line, "apt-get install without --no-install-recommends");
    }
    if ((i.keyword === "ENV" || i.keyword === "ARG") && /\b\w*(SECRET|PASSWORD|PASSWD|TOKEN|ACCESS_KEY|PRIVATE_KEY)\w*\s*=/i.test(i.args)) add("no-secrets", i.line, `${i.keyword} names a secret`);
    if (i.keyword === "ADD" && !/https?:\/\//.test(i.args)) add("add-urls-only", i.line, "ADD of a local file (use COPY)");
  }
  if (/AKIA[0-9A-Z]{16}/.test(text) || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) add("no-secrets", 1, "credential material in the Dockerfile");
  if (options.gpu) {
    const from = ins.filter((i) => i.keyword === "FROM" && i.stage === finalStage)[0];
    if (!from || !/^nvidia\/cuda:[\w.-]*runtime[\w.-]*/.test(from.args)) add("gpu-base", from?.line ?? 1, "final stage is not an NVIDIA CUDA runtime image");
    if (!ins.some((i) => i.keyword === "RUN" && /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(i.args) && /libonnxruntime_providers_cuda\.so/.test(i.args))) {
      add("onnxruntime-cuda", 1, "no RUN installing and verifying onnxruntime-node's CUDA 12 provider");
    }
  }
  if (options.cpuOnly && !ins.some((i) => i.keyword === "ENV" && /ONNXRUNTIME_NODE_INSTALL=skip/.test(i.args))) add("onnxruntime-skip", 1, "CPU image does not skip the CUDA provider download");
  if (options.verifiesModels && !ins.some((i) => i.keyword === "RUN" && /sha256sum -c/.test(i.args) && /models\//.test(i.args))) add("models-sha256", 1, "baked-in models are not verified against their sha256");
  return findings;
}
