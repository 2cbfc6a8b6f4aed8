import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authorize } from "../../core/domain/authorize.ts";
import { isDomainError } from "../../core/errors/domain-error.ts";
import type { Principal } from "../../core/domain/principal.ts";

const viewer: Principal = { userId: "u", organizationId: "o", role: "VIEWER", via: "API_KEY" };

describe("authorize", () => {
  it("should throw UNAUTHENTICATED when there is no principal", () => {
    assert.throws(() => authorize(null, "VIEWER"), (e) => isDomainError(e, "UNAUTHENTICATED"));
  });

  it("should throw FORBIDDEN when a VIEWER needs ANNOTATOR", () => {
    assert.throws(() => authorize(viewer, "ANNOTATOR"), (e) => isDomainError(e, "FORBIDDEN"));
  });

  it("should return the principal when its role is at least the minimum", () => {
    const admin: Principal = { ...viewer, role: "ADMIN" };
    assert.equal(authorize(admin, "ANNOTATOR"), admin);
    assert.equal(authorize(viewer, "VIEWER"), viewer);
  });
});
