// Role checks: VIEWER < ANNOTATOR < ADMIN.
import { DomainError } from "../errors/domain-error.ts";
import { ROLES, type Role } from "./enums.ts";
import type { Principal } from "./principal.ts";

/**
 * Returns the principal when it holds at least `minimum`; otherwise throws.
 * @throws DomainError UNAUTHENTICATED when `principal` is null, FORBIDDEN when the role is too weak.
 */
export function authorize(principal: Principal | null, minimum: Role): Principal {
  if (!principal) throw new DomainError("UNAUTHENTICATED", "authentication required");
  if (ROLES.indexOf(principal.role) < ROLES.indexOf(minimum)) {
    throw new DomainError("FORBIDDEN", `requires role ${minimum}`, { requiredRole: minimum });
  }
  return principal;
}
