// The web viewer's files (app/viewer/: static HTML, CSS and one ES module, no build step; graphql-ws's
// browser build; core/domain/rle.ts with its types stripped, so the page decodes masks with the server's
// own code; the viewer's stream configuration) and their headers, framework-free: the Express
// router (viewer-routes.ts) and the API Lambda (app/lambda/create-lambda-handler.ts) both answer with it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const VIEWER_DIR = fileURLToPath(new URL("../viewer", import.meta.url));

/**
 * Where the viewer streams a job's updates from (GET /viewer/config.json's `stream`):
 * - `graphql-ws`: the `segmentationJobUpdated` subscription; `url` null = this origin's /graphql
 *   (the standalone and embedded servers);
 * - `apigw`: the API Gateway WebSocket API of PROTOCOL.md §7 at `url` (ws:// or wss://, the stage's
 *   URL; the API Lambda, from VIEWER_STREAM_URL);
 * - null: no stream (an API Lambda without VIEWER_STREAM_URL): the viewer reads a job once.
 */
export type ViewerStream = { readonly protocol: "graphql-ws"; readonly url: string | null } | { readonly protocol: "apigw"; readonly url: string } | null;

/** The body of GET /viewer/config.json. */
export interface ViewerConfig {
  readonly stream: ViewerStream;
}

/** The standalone and embedded servers' configuration: graphql-ws on this origin. */
export const SAME_ORIGIN_GRAPHQL_WS: ViewerConfig = { stream: { protocol: "graphql-ws", url: null } };

/**
 * Content-Security-Policy of the viewer's pages: scripts, styles and connections to this origin only
 * (the same-origin WebSocket too) plus, when `config` streams from another origin, that origin's
 * WebSocket (its scheme, host and port; no wildcard); images from blobs the viewer makes of its
 * preview fetches.
 */
export function viewerCsp(config: ViewerConfig): string {
  const streamOrigin = config.stream?.url ? new URL(config.stream.url).origin : null;
  const connect = ["'self'", ...(streamOrigin && streamOrigin !== "null" ? [streamOrigin] : [])].join(" ");
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob:", `connect-src ${connect}`,
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join("; ");
}

/** The CSP of the same-origin configuration ({@link SAME_ORIGIN_GRAPHQL_WS}). */
export const VIEWER_CSP = viewerCsp(SAME_ORIGIN_GRAPHQL_WS);

/** graphql-ws's UMD build (global `graphqlWs`), next to the package's CommonJS entry. */
function graphqlWsBrowserBuild(): string {
  const entry = createRequire(import.meta.url).resolve("graphql-ws");
  return path.join(path.dirname(entry), "..", "umd", "graphql-ws.min.js");
}

const JAVASCRIPT = "text/javascript; charset=utf-8";

/** A TypeScript module of the server as a browser ES module: esbuild strips its types (no bundling; it must import nothing). */
async function browserModule(file: string): Promise<Uint8Array> {
  const { code } = await transform(await readFile(file, "utf8"), { loader: "ts", format: "esm", target: "es2022", sourcefile: path.basename(file) });
  return Buffer.from(code);
}

/** The files under /viewer/, by path below it: their content type and where they are read from (or how they are built). */
const VIEWER_FILES: Readonly<Record<string, { contentType: string; file: () => string; build?: (file: string) => Promise<Uint8Array> }>> = {
  "index.html": { contentType: "text/html; charset=utf-8", file: () => path.join(VIEWER_DIR, "index.html") },
  "viewer.css": { contentType: "text/css; charset=utf-8", file: () => path.join(VIEWER_DIR, "viewer.css") },
  "viewer.js": { contentType: JAVASCRIPT, file: () => path.join(VIEWER_DIR, "viewer.js") },
  "vendor/graphql-ws.js": { contentType: JAVASCRIPT, file: graphqlWsBrowserBuild },
  "lib/rle.js": { contentType: JAVASCRIPT, file: () => fileURLToPath(new URL("../../core/domain/rle.ts", import.meta.url)), build: browserModule },
  // Its own icon: without one, browsers ask for /favicon.ico, which the API Lambda leaves to Apollo (400).
  "favicon.svg": { contentType: "image/svg+xml", file: () => path.join(VIEWER_DIR, "favicon.svg") },
};

/** Each file's bytes and ETag, read (or built) and hashed once per process (the files are part of the release). */
const loaded = new Map<string, Promise<{ body: Uint8Array; etag: string }>>();

function fileWithEtag(name: string, file: () => string, build?: (file: string) => Promise<Uint8Array>): Promise<{ body: Uint8Array; etag: string }> {
  let entry = loaded.get(name);
  if (!entry) {
    entry = (build ? build(file()) : readFile(file())).then((body) => ({ body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"` }));
    entry.catch(() => loaded.delete(name)); // a failed read is retried by the next request
    loaded.set(name, entry);
  }
  return entry;
}

/** One answer of {@link viewerRoute}: status, every header (content type included) and the body (empty but for 200 and 404). */
export interface ViewerRouteResponse {
  readonly status: 200 | 301 | 302 | 304 | 404;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * Answers a GET of `requestPath` (the URL's path, no query) when it is the viewer's:
 * `/` → 302 to /viewer/; `/viewer` → 301 to /viewer/; `/viewer/` and `/viewer/index.html` the page;
 * `/viewer/viewer.css`, `/viewer/viewer.js`, `/viewer/favicon.svg`, `/viewer/vendor/graphql-ws.js`, `/viewer/lib/rle.js` (files revalidated by
 * ETag: `ifNoneMatch` equal to it → 304); `/viewer/config.json` the {@link ViewerConfig} (never
 * cached); any other path below /viewer/ → 404 `{ code: "NOT_FOUND" }`. Every answer carries the CSP
 * of `config` ({@link viewerCsp}), `x-content-type-options: nosniff` and `referrer-policy: no-referrer`.
 * @returns null for a path outside the viewer (the caller's other routes answer it).
 */
export async function viewerRoute(requestPath: string, config: ViewerConfig, ifNoneMatch?: string): Promise<ViewerRouteResponse | null> {
  const security = { "content-security-policy": viewerCsp(config), "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
  if (requestPath === "/") return { status: 302, headers: { ...security, location: "/viewer/" }, body: EMPTY };
  if (requestPath === "/viewer") return { status: 301, headers: { ...security, location: "/viewer/" }, body: EMPTY };
  if (!requestPath.startsWith("/viewer/")) return null;
  const name = requestPath.slice("/viewer/".length) || "index.html";
  if (name === "config.json") {
    return { status: 200, headers: { ...security, "content-type": "application/json; charset=utf-8", "cache-control": "no-store" }, body: Buffer.from(JSON.stringify(config)) };
  }
  const entry = Object.hasOwn(VIEWER_FILES, name) ? VIEWER_FILES[name] : undefined;
  if (!entry) {
    const body = Buffer.from(JSON.stringify({ code: "NOT_FOUND", message: `the viewer has no file ${name}` }));
    return { status: 404, headers: { ...security, "content-type": "application/json; charset=utf-8" }, body };
  }
  const { body, etag } = await fileWithEtag(name, entry.file, entry.build);
  const headers = { ...security, "content-type": entry.contentType, "cache-control": "no-cache", etag };
  return ifNoneMatch === etag ? { status: 304, headers, body: EMPTY } : { status: 200, headers, body };
}
