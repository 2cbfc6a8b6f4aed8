// First-run data for embedded mode: a demo organisation, an admin user and a fresh API key.
import type { WiredServices } from "./api/wire-services.ts";

/** Name of the API key embedded mode issues (the previous one is revoked on each start). */
export const EMBEDDED_KEY_NAME = "embedded-dev";

/**
 * Ensures the `demo` organisation and `admin@demo.local` (ADMIN) exist, revokes the previous
 * embedded key and issues a new one. Returns the new key (printed once, stored only hashed).
 */
export async function bootstrapEmbedded(services: WiredServices): Promise<{ organizationId: string; userId: string; apiKey: string }> {
  const existing = await services.identities.findOrganizationBySlug("demo");
  const organizationId = existing?.id ?? (await services.identities.createOrganization({ slug: "demo", name: "Demo" })).id;
  const { userId } = await services.identities.upsertMember({ organizationId, email: "admin@demo.local", name: "Demo admin", role: "ADMIN" });
  await services.identities.revokeApiKeysNamed(organizationId, EMBEDDED_KEY_NAME);
  const { key } = await services.auth.issueApiKey(organizationId, userId, EMBEDDED_KEY_NAME);
  return { organizationId, userId, apiKey: key };
}
