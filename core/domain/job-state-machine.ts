// The segmentation job lifecycle: QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED.
import { DomainError } from "../errors/domain-error.ts";
import type { JobStatus } from "./enums.ts";

const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  QUEUED: ["RUNNING", "FAILED", "CANCELLED"],
  RUNNING: ["SUCCEEDED", "FAILED", "CANCELLED"],
  SUCCEEDED: [],
  FAILED: [],
  CANCELLED: [],
};

/** True for statuses a job never leaves. */
export function isTerminalJobStatus(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** True when a job may move from `from` to `to`. A status never transitions to itself. */
export function canTransitionJob(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses from which a job may move to `to` (for conditional `UPDATE … WHERE status IN (…)`). */
export function jobStatusesThatCanBecome(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

/**
 * Checks a transition.
 * @throws DomainError INVALID_STATE when the transition is not allowed.
 */
export function assertJobTransition(from: JobStatus, to: JobStatus): void {
  if (!canTransitionJob(from, to)) {
    throw new DomainError("INVALID_STATE", `a ${from} job cannot become ${to}`, { from, to });
  }
}
