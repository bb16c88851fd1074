import { createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync } from 'node:crypto';
import { ConfigError } from '../errors/config-error.js';

/** ZeroMQ socket options of a CURVE server (the side that binds). */
export interface CurveServerSocketOptions {
  readonly curveServer: true;
  readonly curvePublicKey: string;
  readonly curveSecretKey: string;
}

/** ZeroMQ socket options of a CURVE client (the side that connects). */
export interface CurveClientSocketOptions {
  readonly curveServerKey: string;
  readonly curvePublicKey: string;
  readonly curveSecretKey: string;
}

/** What a token protects; each gets its own key pair, so one service's keys say nothing of another's. */
export type CurvePurpose = 'tierkv-server' | 'tierkv-controller';

/**
 * The shared token is the credential: the server's CURVE key pair is derived from it (HKDF-SHA256),
 * so only a peer that knows the token knows the server's public key, and without that key the
 * CURVE handshake cannot complete: nothing from that peer ever reaches a receive loop, and a
 * socket with a security mechanism also refuses ZMTP 1.0 peers (which have no handshake). Clients
 * use a fresh key pair of their own. Traffic is encrypted as a side effect.
 */
export function curveServerOptions(token: string, purpose: CurvePurpose, field: string): CurveServerSocketOptions {
  const secret = serverSecret(token, purpose, field);
  return { curveServer: true, curvePublicKey: z85Encode(publicKeyOf(secret)), curveSecretKey: z85Encode(secret) };
}

/** Socket options that connect to a server whose key pair was derived from `token` (see curveServerOptions). */
export function curveClientOptions(token: string, purpose: CurvePurpose, field: string): CurveClientSocketOptions {
  const server = publicKeyOf(serverSecret(token, purpose, field));
  const own = generateKeyPairSync('x25519');
  const jwk = own.privateKey.export({ format: 'jwk' });
  return {
    curveServerKey: z85Encode(server),
    curvePublicKey: z85Encode(Buffer.from(jwk.x!, 'base64url')),
    curveSecretKey: z85Encode(Buffer.from(jwk.d!, 'base64url')),
  };
}

/** Checks a token option: undefined (no credential) or a non-empty string. */
export function checkAuthToken(token: unknown, field: string): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token.length === 0) {
    throw new ConfigError(field, `expected a non-empty string (a long random secret, e.g. \`openssl rand -hex 32\`), got ${JSON.stringify(token)}`);
  }
  return token;
}

function serverSecret(token: string, purpose: CurvePurpose, field: string): Buffer {
  checkAuthToken(token, field);
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), 'tierkv curve v1', purpose, 32));
}

// PKCS#8 DER prefix of an X25519 private key (RFC 8410); the 32 key bytes follow.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function publicKeyOf(secret: Buffer): Buffer {
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  return Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 (ZeroMQ RFC 32), the text form ZeroMQ takes keys in; `bytes.length` must be a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 encodes multiples of 4 bytes, got ${bytes.length}`);
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = Z85[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}
