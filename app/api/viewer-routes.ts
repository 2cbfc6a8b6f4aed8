// The web viewer at /viewer/ in the standalone and embedded servers: Express around viewer-route.ts
// (the files, their headers and GET /viewer/config.json, shared with the API Lambda).
import express from "express";
import { SAME_ORIGIN_GRAPHQL_WS, type ViewerConfig, viewerRoute } from "./viewer-route.ts";

// test/api/slice-preview.test.ts checks the page's CSP against it.
export { VIEWER_CSP } from "./viewer-route.ts";

/** A router serving the viewer; mount it at /viewer. `config` default: graphql-ws on this origin. */
export function viewerRouter(config: ViewerConfig = SAME_ORIGIN_GRAPHQL_WS): express.Router {
  const router = express.Router();
  router.use(async (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    try {
      // The full path: the router is mounted, and /viewer must redirect to /viewer/.
      const out = await viewerRoute(req.originalUrl.split("?")[0]!, config, req.get("if-none-match"));
      if (!out) return next();
      res.status(out.status).set(out.headers).end(Buffer.from(out.body));
    } catch (error) {
      next(error);
    }
  });
  return router;
}
