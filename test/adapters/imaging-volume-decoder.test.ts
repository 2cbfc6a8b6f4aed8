import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ImagingVolumeDecoder } from "../../adapters/imaging/imaging-volume-decoder.ts";
import { writeDicomSeries } from "../../imaging/dicom/dicom-series-writer.ts";
import { IDENTITY_DIRECTION_LPS } from "../../imaging/volume.ts";
import { isDomainError } from "../../core/errors/domain-error.ts";

const ORG_A = "5b0c2f43-8a0e-4a57-9d51-6f5c2b0e6a01";
const ORG_B = "9e1d7c55-1f3b-4c2e-8a77-0d4b3e2f9c02";
const files = writeDicomSeries(
  { dimsIJK: [3, 2, 2], spacingMm: [1, 1, 2], originLPS: [0, 0, 0], directionLPS: IDENTITY_DIRECTION_LPS, unit: "HU", data: new Int16Array(12) },
  { uidSeed: "decoder-test" },
);

async function seriesUid(decoder: ImagingVolumeDecoder, organizationId: string): Promise<unknown> {
  return (await decoder.decode(files, "DICOM", { organizationId })).volume.meta?.seriesInstanceUID;
}

describe("ImagingVolumeDecoder", () => {
  it("should remap the series UID per organisation and per secret when a DICOM series is decoded", async () => {
    const decoder = new ImagingVolumeDecoder({}, { uidSecret: "s".repeat(32) });
    const a = await seriesUid(decoder, ORG_A);
    assert.match(String(a), /^2\.25\.\d+$/);
    assert.equal(await seriesUid(new ImagingVolumeDecoder({}, { uidSecret: "s".repeat(32) }), ORG_A), a, "stable across decoder instances");
    assert.notEqual(await seriesUid(decoder, ORG_B), a);
    assert.notEqual(await seriesUid(new ImagingVolumeDecoder({}, { uidSecret: "t".repeat(32) }), ORG_A), a);
  });

  it("should refuse to be built when the UID secret is shorter than 32 characters", () => {
    assert.throws(() => new ImagingVolumeDecoder({}, { uidSecret: "s".repeat(31) }), /at least 32 characters/);
    assert.throws(() => new ImagingVolumeDecoder({}, { uidSecret: "" }), RangeError);
  });

  it("should answer UNSUPPORTED_FORMAT when DICOM bytes are declared as NIfTI", async () => {
    await assert.rejects(new ImagingVolumeDecoder({}, { uidSecret: "s".repeat(32) }).decode([files[0]!], "NIFTI", { organizationId: ORG_A }), (e) => isDomainError(e, "UNSUPPORTED_FORMAT"));
  });
});
