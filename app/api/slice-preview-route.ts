// GET /slices/:id/preview.png — a slice rendered in a display window as an 8-bit PNG, for viewers.
// The same credentials as GraphQL (x-api-key or Authorization: Bearer); scoped to the caller's
// organisation (another organisation's slice is NOT_FOUND). Pixel data never travels inside GraphQL.
import type { Request, Response } from "express";
import { isDomainError } from "../../core/errors/domain-error.ts";
import type { StudyService } from "../../core/services/study.service.ts";
import type { AuthService } from "../../core/services/auth.service.ts";
import { renderMaskOverlayPng } from "../../imaging/render/mask-overlay-png.ts";
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

/** The Express handler; errors are JSON `{ code, message }` with 400, 401, 403 or 404. */
export function slicePreviewHandler(deps: SlicePreviewDeps) {
  return async (req: Request, res: Response, next: (error: unknown) => void): Promise<void> => {
    try {
      const window = parsePreviewWindow(req.query["window"]);
      if (!window) {
        res.status(400).json({ code: "BAD_USER_INPUT", message: "window must be LOW,HIGH in HU with LOW < HIGH", field: "window" });
        return;
      }
      const principal = await deps.auth.authenticate(credentialsFromHeaders((n) => req.get(n)));
      const { slice, pixels } = await deps.studies.slicePixels(principal, String(req.params["id"]));
      const png = renderMaskOverlayPng({ slice: { width: slice.width, height: slice.height, data: pixels }, windowHU: window });
      res.status(200).set({ "content-type": "image/png", "cache-control": "private, max-age=300" }).send(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
    } catch (error) {
      if (isDomainError(error)) {
        const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 }[error.code as string] ?? 400;
        res.status(status).json({ code: error.code, message: error.message });
        return;
      }
      next(error);
    }
  };
}
