// Who is calling: the authenticated identity every service call is scoped to.
import type { Role } from "./enums.ts";

/** An authenticated caller acting inside exactly one organisation. */
export interface Principal {
  readonly userId: string;
  readonly organizationId: string;
  readonly role: Role;
  /** How the caller authenticated (for audit). */
  readonly via: "API_KEY" | "JWT";
}
