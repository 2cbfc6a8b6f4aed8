// Authentication: API keys (only their sha256 is stored) and JWT bearer tokens.
import { createHash, randomBytes } from "node:crypto";
import { DomainError } from "../errors/domain-error.ts";
import type { Role } from "../domain/enums.ts";
import type { Principal } from "../domain/principal.ts";
import type { IdentityRepository } from "../ports/identity-repository.port.ts";
import type { TokenVerifier } from "../ports/token-verifier.port.ts";

/** Credentials found on a request (HTTP headers or graphql-ws connection params). */
export interface Credentials {
  /** The `x-api-key` header value. */
  readonly apiKey?: string | null;
  /** The token of an `Authorization: Bearer <token>` header. */
  readonly bearerToken?: string | null;
}

const API_KEY_PATTERN = /^cs_([a-z0-9]{8})_([A-Za-z0-9_-]{32,})$/;

/** sha256 (hex) of an API key: what is stored and looked up. Keys are random, so no salt is needed. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Turns request credentials into a {@link Principal}, and issues API keys. */
export class AuthService {
  constructor(
    private readonly identities: IdentityRepository,
    private readonly tokens: TokenVerifier,
  ) {}

  /**
   * Resolves credentials. No credentials → null (resolvers then answer UNAUTHENTICATED where
   * authentication is required).
   * @throws DomainError UNAUTHENTICATED when credentials are present but invalid, expired, revoked,
   *   or their user is no longer a member of the organisation.
   */
  async authenticate(credentials: Credentials): Promise<Principal | null> {
    if (credentials.apiKey) return this.fromApiKey(credentials.apiKey);
    if (credentials.bearerToken) return this.fromBearer(credentials.bearerToken);
    return null;
  }

  /**
   * Creates an API key for a member and returns the secret (shown once; only its hash is kept).
   * Format: `cs_<8-char prefix>_<43-char secret>`.
   */
  async issueApiKey(organizationId: string, userId: string, name: string): Promise<{ id: string; key: string; prefix: string }> {
    const prefix = randomBytes(6).toString("hex").slice(0, 8);
    const key = `cs_${prefix}_${randomBytes(32).toString("base64url")}`;
    const { id } = await this.identities.createApiKey({ organizationId, userId, name, prefix, secretSha256: hashApiKey(key) });
    return { id, key, prefix };
  }

  private async fromApiKey(key: string): Promise<Principal> {
    if (!API_KEY_PATTERN.test(key)) throw new DomainError("UNAUTHENTICATED", "invalid API key");
    const found = await this.identities.findApiKeyBySecretSha256(hashApiKey(key));
    if (!found || found.revoked || !found.role) throw new DomainError("UNAUTHENTICATED", "invalid API key");
    return { userId: found.userId, organizationId: found.organizationId, role: found.role, via: "API_KEY" };
  }

  private async fromBearer(token: string): Promise<Principal> {
    const claims = await this.tokens.verify(token);
    if (!claims) throw new DomainError("UNAUTHENTICATED", "invalid or expired token");
    const role: Role | null = await this.identities.findRole(claims.organizationId, claims.userId);
    if (!role) throw new DomainError("UNAUTHENTICATED", "not a member of the token's organisation");
    return { userId: claims.userId, organizationId: claims.organizationId, role, via: "JWT" };
  }
}
