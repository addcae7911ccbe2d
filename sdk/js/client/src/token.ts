/** The claims of a Herald token the SDK reads (it never verifies them). */
export interface TokenClaims {
  app?: string;
  sub?: string;
  exp?: number;
  capabilities?: Record<string, string[]>;
}

/** Reads a JWT's claims without verifying it; undefined when malformed. */
export function decodeToken(jwt: string): TokenClaims | undefined {
  const part = jwt.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as TokenClaims;
  } catch {
    return undefined;
  }
}

/** Whether pattern (with `*` for any run of characters) matches name. */
function matches(pattern: string, name: string): boolean {
  const parts = pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(name);
}

/** Whether the claims grant op on channel. */
export function tokenAllows(claims: TokenClaims | undefined, channel: string, op: string): boolean {
  for (const [pattern, ops] of Object.entries(claims?.capabilities ?? {})) {
    if (ops.includes(op) && matches(pattern, channel)) return true;
  }
  return false;
}
