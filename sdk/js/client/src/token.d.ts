/** The claims of a Herald token the SDK reads (it never verifies them). */
export interface TokenClaims {
    app?: string;
    sub?: string;
    exp?: number;
    capabilities?: Record<string, string[]>;
}
/** Reads a JWT's claims without verifying it; undefined when malformed. */
export declare function decodeToken(jwt: string): TokenClaims | undefined;
/** Whether the claims grant op on channel. */
export declare function tokenAllows(claims: TokenClaims | undefined, channel: string, op: string): boolean;
