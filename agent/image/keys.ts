/**
 * Ed25519 keys for signed images (node:crypto, no native add-on). Pure: text ↔ key objects.
 *
 * Public key text (the `.pub` file and the config's trusted keys): `ed25519:<base64 of the raw
 * 32-byte key>`. Private key: PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` writes).
 * Key ID: first 8 bytes of SHA-256 of the raw public key, 16 lowercase hex digits.
 */
import type { KeyObject } from 'node:crypto';
import { AgentError } from '../errors.ts';
import { nodeCrypto } from '../util/crypto.ts';

/**
 * `id` and `key` are made on first use: the daemon parses its trusted keys at start (a bad key
 * is a config error then) but loads node:crypto only when it verifies an image.
 */
export interface PublicKey {
  readonly id: string;
  /** raw 32 bytes */
  readonly raw: Uint8Array;
  readonly key: KeyObject;
}

export interface PrivateKey {
  id: string;
  key: KeyObject;
  publicKey: PublicKey;
}

export function keyIdOf(raw: Uint8Array): string {
  return nodeCrypto().createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** OpenSSL takes any 32 bytes as an Ed25519 public key (the format check is parsePublicKey's). */
function fromRaw(raw: Uint8Array): PublicKey {
  let id: string | undefined;
  let key: KeyObject | undefined;
  return {
    raw,
    get id(): string {
      return (id ??= keyIdOf(raw));
    },
    get key(): KeyObject {
      try {
        return (key ??= nodeCrypto().createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' }));
      } catch (e) {
        throw new AgentError('IMAGE_KEY_INVALID', `not a usable Ed25519 public key: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}

function rawOf(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new AgentError('IMAGE_KEY_INVALID', 'not an Ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

/** `ed25519:<base64>` → public key; IMAGE_KEY_INVALID otherwise. */
export function parsePublicKey(text: string): PublicKey {
  const m = /^ed25519:([A-Za-z0-9+/]{43}=?)$/.exec(text.trim());
  const raw = m?.[1] ? new Uint8Array(Buffer.from(m[1], 'base64')) : undefined;
  if (!raw || raw.length !== 32) throw new AgentError('IMAGE_KEY_INVALID', `not an Ed25519 public key (expected "ed25519:" and 32 bytes in base64): ${JSON.stringify(text.slice(0, 20))}…`);
  return fromRaw(raw);
}

export function formatPublicKey(k: PublicKey): string {
  return `ed25519:${Buffer.from(k.raw).toString('base64')}`;
}

/** PKCS#8 PEM → private key (message never includes key material). */
export function parsePrivateKey(pem: string): PrivateKey {
  let key: KeyObject;
  try {
    key = nodeCrypto().createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new AgentError('IMAGE_KEY_INVALID', 'not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new AgentError('IMAGE_KEY_INVALID', `private key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  const publicKey = fromRaw(rawOf(nodeCrypto().createPublicKey(key)));
  return { id: publicKey.id, key, publicKey };
}

export function generateKeyPair(): { privatePem: string; publicText: string; id: string } {
  const { privateKey, publicKey } = nodeCrypto().generateKeyPairSync('ed25519');
  const pub = fromRaw(rawOf(publicKey));
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicText: formatPublicKey(pub), id: pub.id };
}

export function signBytes(k: PrivateKey, message: Uint8Array): Uint8Array {
  return new Uint8Array(nodeCrypto().sign(null, message, k.key));
}

export function verifyBytes(k: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return nodeCrypto().verify(null, message, k.key, signature);
  } catch {
    return false;
  }
}
