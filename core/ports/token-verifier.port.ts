// Verifies bearer tokens (JWT via jose in adapters/auth/).

/** Claims coinseg needs from a bearer token. */
export interface VerifiedToken {
  /** User id (`sub`). */
  readonly userId: string;
  /** Organisation the token acts in (`org` claim). */
  readonly organizationId: string;
}

/** Bearer-token verification. */
export interface TokenVerifier {
  /** The token's claims, or null when it is invalid, expired or has the wrong issuer/audience. */
  verify(token: string): Promise<VerifiedToken | null>;
}
