// GET /jobs/:id/masks.nii.gz[?series=<id>] — a job's masks as one NIfTI label volume on the series'
// grid (1 = mask), for research and analytics tools that read volumes rather than run lengths. The
// same credentials as GraphQL; scoped to the caller's organisation (another organisation's job is
// NOT_FOUND, byte for byte as an unknown id).
import type { Credentials, AuthService } from "../../core/services/auth.service.ts";
import type { SegmentationService } from "../../core/services/segmentation.service.ts";
import { writeNifti } from "../../imaging/nifti/nifti-writer.ts";
import { answerDomainErrors, expressBinaryHandler, type BinaryRouteResponse } from "./binary-route.ts";
import { credentialsFromHeaders } from "./request-credentials.ts";

/** NIfTI's intent code of a label map. */
const NIFTI_INTENT_LABEL = 1002;

/** The services the route needs. */
export interface JobMasksDeps {
  readonly auth: Pick<AuthService, "authenticate">;
  readonly segmentation: Pick<SegmentationService, "jobMaskVolume">;
}

/**
 * The route's logic, free of any HTTP framework: authenticates, reads the job's results in the
 * caller's organisation and writes them as a gzipped NIfTI-1 label volume (uint8, intent LABEL) with
 * the series' spacing, origin and direction, so it overlays the imported image in any viewer. A job
 * still running answers what is stored so far (`x-coinseg-result-slices` says how many slices). The
 * header's description names the method and model only.
 */
export async function jobMasks(deps: JobMasksDeps, credentials: Credentials, jobId: string, seriesParam: unknown): Promise<BinaryRouteResponse<"application/gzip">> {
  if (seriesParam !== undefined && typeof seriesParam !== "string") {
    return { status: 400, contentType: "application/json", body: { code: "BAD_USER_INPUT", message: "series must be one series id", field: "series" } };
  }
  return answerDomainErrors(async () => {
    const principal = await deps.auth.authenticate(credentials);
    const { job, series, data, slicesWithResult } = await deps.segmentation.jobMaskVolume(principal, jobId, seriesParam ?? null);
    const d = series.directionLPS;
    const body = writeNifti(
      {
        dimsIJK: series.dimsIJK, spacingMm: series.spacingMm, originLPS: series.originLPS,
        directionLPS: [[d[0]!, d[1]!, d[2]!], [d[3]!, d[4]!, d[5]!], [d[6]!, d[7]!, d[8]!]], unit: "label", data,
      },
      { intentCode: NIFTI_INTENT_LABEL, description: `coinseg ${job.method} ${job.modelKey}` },
    );
    return {
      status: 200, contentType: "application/gzip", body,
      headers: {
        "content-disposition": `attachment; filename="job-${job.id}-series-${series.id}-masks.nii.gz"`,
        // A running job's volume grows: never serve a stale copy.
        "cache-control": "private, no-cache",
        "x-coinseg-result-slices": String(slicesWithResult),
        "x-coinseg-job-status": job.status,
      },
    } as const;
  });
}

/** The Express handler of GET /jobs/:id/masks.nii.gz. */
export function jobMasksHandler(deps: JobMasksDeps) {
  return expressBinaryHandler((req) => jobMasks(deps, credentialsFromHeaders((n) => req.get(n)), String(req.params["id"]), req.query["series"]));
}
