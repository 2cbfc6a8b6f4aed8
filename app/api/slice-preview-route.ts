// GET /slices/:id/preview.png — a slice rendered in a display window as an 8-bit PNG, for viewers.
// The same credentials as GraphQL (x-api-key or Authorization: Bearer); scoped to the caller's
// organisation (another organisation's slice is NOT_FOUND). Pixel data never travels inside GraphQL.
import type { StudyService } from "../../core/services/study.service.ts";
import type { AuthService, Credentials } from "../../core/services/auth.service.ts";
import { renderMaskOverlayPng } from "../../imaging/render/mask-overlay-png.ts";
import { answerDomainErrors, expressBinaryHandler, type BinaryRouteResponse } from "./binary-route.ts";
import { credentialsFromHeaders } from "./request-credentials.ts";

/** The display window when the request names none: abdominal soft tissue, in HU. */
export const DEFAULT_PREVIEW_WINDOW_HU: readonly [number, number] = [-160, 240];

/** Widest window accepted, in HU (beyond every CT value). */
const WINDOW_LIMIT_HU = 32_768;

/**
 * Parses `?window=LOW,HIGH` (HU, finite, LOW < HIGH, both within ±32768); undefined gives the default.
 * @returns the window, or null when malformed
 */
export function parsePreviewWindow(value: unknown): readonly [number, number] | null {
  if (value === undefined) return DEFAULT_PREVIEW_WINDOW_HU;
  if (typeof value !== "string" || !/^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$/.test(value)) return null;
  const [low, high] = value.split(",").map(Number) as [number, number];
  if (!(low < high) || Math.abs(low) > WINDOW_LIMIT_HU || Math.abs(high) > WINDOW_LIMIT_HU) return null;
  return [low, high];
}

/** The services the route needs. */
export interface SlicePreviewDeps {
  readonly auth: Pick<AuthService, "authenticate">;
  readonly studies: Pick<StudyService, "slicePixels">;
}

/** Cache policy of a rendered preview: the caller's own, briefly (pixels of a slice never change). */
export const PREVIEW_CACHE_CONTROL = "private, max-age=300";

/**
 * The route's logic, free of any HTTP framework (Express in the standalone server, API Gateway in
 * the Lambda): checks the window, authenticates, reads the slice in the caller's organisation and
 * renders it. Unexpected errors are thrown.
 */
export async function slicePreview(deps: SlicePreviewDeps, credentials: Credentials, sliceId: string, windowParam: unknown): Promise<BinaryRouteResponse<"image/png">> {
  const window = parsePreviewWindow(windowParam);
  if (!window) return { status: 400, contentType: "application/json", body: { code: "BAD_USER_INPUT", message: "window must be LOW,HIGH in HU with LOW < HIGH", field: "window" } };
  return answerDomainErrors(async () => {
    const principal = await deps.auth.authenticate(credentials);
    const { slice, pixels } = await deps.studies.slicePixels(principal, sliceId);
    const body = renderMaskOverlayPng({ slice: { width: slice.width, height: slice.height, data: pixels }, windowHU: window });
    return { status: 200, contentType: "image/png", body, headers: { "cache-control": PREVIEW_CACHE_CONTROL } } as const;
  });
}

/** The Express handler of GET /slices/:id/preview.png. */
export function slicePreviewHandler(deps: SlicePreviewDeps) {
  return expressBinaryHandler((req) => slicePreview(deps, credentialsFromHeaders((n) => req.get(n)), String(req.params["id"]), req.query["window"]));
}
