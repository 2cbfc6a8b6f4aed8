// Organisations, users, memberships and API keys.
import type { Role } from "../domain/enums.ts";

/** What an API key resolves to. */
export interface ApiKeyIdentity {
  readonly apiKeyId: string;
  readonly userId: string;
  readonly organizationId: string;
  /** The user's role in the key's organisation, or null when the membership is gone. */
  readonly role: Role | null;
  readonly revoked: boolean;
}

/** Identity persistence (adapters/prisma/prisma-identity-repository.ts). */
export interface IdentityRepository {
  createOrganization(input: { slug: string; name: string }): Promise<{ id: string; slug: string; name: string }>;
  findOrganization(organizationId: string): Promise<{ id: string; slug: string; name: string } | null>;
  findOrganizationBySlug(slug: string): Promise<{ id: string; slug: string; name: string } | null>;
  /** Creates the user when the email is new, and the membership (or updates its role). */
  upsertMember(input: { organizationId: string; email: string; name: string; role: Role }): Promise<{ userId: string }>;
  /** The user's role in the organisation, or null when not a member. */
  findRole(organizationId: string, userId: string): Promise<Role | null>;
  /** Stores a key given the sha256 of its secret. */
  createApiKey(input: { organizationId: string; userId: string; name: string; prefix: string; secretSha256: string }): Promise<{ id: string }>;
  findApiKeyBySecretSha256(secretSha256: string): Promise<ApiKeyIdentity | null>;
  /** Revokes every key of the organisation with that name. */
  revokeApiKeysNamed(organizationId: string, name: string): Promise<number>;
}
