// TokenVerifier for HS256 JWTs, with jose.
import { jwtVerify, SignJWT } from "jose";
import type { TokenVerifier, VerifiedToken } from "../../core/ports/token-verifier.port.ts";

/** Options of {@link JoseTokenVerifier}. */
export interface JwtOptions {
  /** HS256 shared secret (≥ 32 characters). */
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
}

/**
 * Verifies HS256 bearer tokens: `sub` = user id, `org` = organisation id, `iss`/`aud` as configured,
 * `exp` required. Clock tolerance 5 s.
 */
export class JoseTokenVerifier implements TokenVerifier {
  private readonly key: Uint8Array;

  constructor(private readonly options: JwtOptions) {
    this.key = new TextEncoder().encode(options.secret);
  }

  async verify(token: string): Promise<VerifiedToken | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ["HS256"], issuer: this.options.issuer, audience: this.options.audience, clockTolerance: 5, requiredClaims: ["exp", "sub"],
      });
      if (typeof payload.sub !== "string" || typeof payload.org !== "string") return null;
      return { userId: payload.sub, organizationId: payload.org };
    } catch {
      return null;
    }
  }

  /** Signs a token for a user in an organisation, valid for `ttlSeconds` (tests, embedded mode). */
  async sign(userId: string, organizationId: string, ttlSeconds = 3600): Promise<string> {
    return new SignJWT({ org: organizationId })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(userId)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.key);
  }
}
