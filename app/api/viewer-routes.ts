// The web viewer (app/viewer/: static HTML, CSS and one ES module, no build step) at /viewer/, and
// graphql-ws's browser build at /viewer/vendor/graphql-ws.js, from the installed package.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";

const VIEWER_DIR = fileURLToPath(new URL("../viewer", import.meta.url));

/** graphql-ws's UMD build (global `graphqlWs`), next to the package's CommonJS entry. */
function graphqlWsBrowserBuild(): string {
  const entry = createRequire(import.meta.url).resolve("graphql-ws");
  return path.join(path.dirname(entry), "..", "umd", "graphql-ws.min.js");
}

/**
 * Content-Security-Policy of the viewer's pages: scripts, styles and connections to this origin
 * only (the WebSocket too), images from blobs the viewer makes of its preview fetches.
 */
export const VIEWER_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join("; ");

/** A router serving the viewer; mount it at /viewer. */
export function viewerRouter(): express.Router {
  const router = express.Router();
  const vendor = graphqlWsBrowserBuild();
  router.use((_req, res, next) => {
    res.set({ "content-security-policy": VIEWER_CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" });
    next();
  });
  router.get("/vendor/graphql-ws.js", (_req, res) => void res.type("text/javascript").sendFile(vendor));
  router.use(express.static(VIEWER_DIR, { index: "index.html", redirect: true }));
  return router;
}
