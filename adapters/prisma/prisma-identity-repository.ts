// IdentityRepository on Prisma: organisations, users, memberships, hashed API keys.
import type { Role } from "../../core/domain/enums.ts";
import type { ApiKeyIdentity, IdentityRepository } from "../../core/ports/identity-repository.port.ts";
import type { Db } from "./prisma-client.ts";

/** {@link IdentityRepository} backed by Prisma. */
export class PrismaIdentityRepository implements IdentityRepository {
  constructor(private readonly db: Db) {}

  async createOrganization(input: { slug: string; name: string }) {
    const row = await this.db.organization.create({ data: input });
    return { id: row.id, slug: row.slug, name: row.name };
  }

  async findOrganization(organizationId: string) {
    const row = await this.db.organization.findUnique({ where: { id: organizationId } });
    return row ? { id: row.id, slug: row.slug, name: row.name } : null;
  }

  async findOrganizationBySlug(slug: string) {
    const row = await this.db.organization.findUnique({ where: { slug } });
    return row ? { id: row.id, slug: row.slug, name: row.name } : null;
  }

  async upsertMember(input: { organizationId: string; email: string; name: string; role: Role }): Promise<{ userId: string }> {
    const user = await this.db.user.upsert({ where: { email: input.email }, create: { email: input.email, name: input.name }, update: {} });
    await this.db.membership.upsert({
      where: { organizationId_userId: { organizationId: input.organizationId, userId: user.id } },
      create: { organizationId: input.organizationId, userId: user.id, role: input.role },
      update: { role: input.role },
    });
    return { userId: user.id };
  }

  async findRole(organizationId: string, userId: string): Promise<Role | null> {
    const row = await this.db.membership.findUnique({ where: { organizationId_userId: { organizationId, userId } } });
    return row?.role ?? null;
  }

  async createApiKey(input: { organizationId: string; userId: string; name: string; prefix: string; secretSha256: string }): Promise<{ id: string }> {
    const row = await this.db.apiKey.create({ data: input });
    return { id: row.id };
  }

  async findApiKeyBySecretSha256(secretSha256: string): Promise<ApiKeyIdentity | null> {
    const row = await this.db.apiKey.findUnique({ where: { secretSha256 } });
    if (!row) return null;
    const role = await this.findRole(row.organizationId, row.userId);
    return { apiKeyId: row.id, userId: row.userId, organizationId: row.organizationId, role, revoked: row.revokedAt !== null };
  }

  async revokeApiKeysNamed(organizationId: string, name: string): Promise<number> {
    const { count } = await this.db.apiKey.updateMany({ where: { organizationId, name, revokedAt: null }, data: { revokedAt: new Date() } });
    return count;
  }
}
