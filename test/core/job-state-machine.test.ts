import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertJobTransition, canTransitionJob, isTerminalJobStatus, jobStatusesThatCanBecome } from "../../core/domain/job-state-machine.ts";
import { isDomainError } from "../../core/errors/domain-error.ts";
import { JOB_STATUSES } from "../../core/domain/enums.ts";

describe("job state machine", () => {
  it("should allow QUEUED → RUNNING → SUCCEEDED when a job runs normally", () => {
    assert.equal(canTransitionJob("QUEUED", "RUNNING"), true);
    assert.equal(canTransitionJob("RUNNING", "SUCCEEDED"), true);
  });

  it("should allow cancelling and failing when a job is QUEUED or RUNNING", () => {
    for (const from of ["QUEUED", "RUNNING"] as const) {
      assert.equal(canTransitionJob(from, "CANCELLED"), true);
      assert.equal(canTransitionJob(from, "FAILED"), true);
    }
  });

  it("should refuse every transition when the job is terminal", () => {
    for (const from of ["SUCCEEDED", "FAILED", "CANCELLED"] as const) {
      assert.equal(isTerminalJobStatus(from), true);
      for (const to of JOB_STATUSES) assert.equal(canTransitionJob(from, to), false, `${from} → ${to}`);
    }
  });

  it("should refuse QUEUED → SUCCEEDED when a job never ran", () => {
    assert.equal(canTransitionJob("QUEUED", "SUCCEEDED"), false);
  });

  it("should throw INVALID_STATE when asserting a forbidden transition", () => {
    assert.throws(() => assertJobTransition("SUCCEEDED", "CANCELLED"), (e) => isDomainError(e, "INVALID_STATE"));
    assert.doesNotThrow(() => assertJobTransition("QUEUED", "RUNNING"));
  });

  it("should list QUEUED and RUNNING as the sources of CANCELLED", () => {
    assert.deepEqual(jobStatusesThatCanBecome("CANCELLED"), ["QUEUED", "RUNNING"]);
    assert.deepEqual(jobStatusesThatCanBecome("RUNNING"), ["QUEUED"]);
  });
});
