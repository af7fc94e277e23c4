/** Builds the signed trailer for a payload (pure: digests and keys in, bytes out). */
import { encodeMetadata, encodeTrailer, FORMAT_VERSION, metadataProblem, signingMessage, type ImageMetadata, type SignatureRecord, type SignerRole } from './format.ts';
import { signBytes, type PrivateKey } from './keys.ts';
import { AgentError } from '../errors.ts';

export interface SignInput {
  payloadLength: number;
  payloadSha256: string;
  version: string;
  models: string[];
  /** seconds since the epoch */
  signedAt: number;
  minVersion?: string;
  signers: { role: SignerRole; key: PrivateKey }[];
}

/** The trailer to append to the payload; IMAGE_SIGN_INVALID for bad fields. */
export function buildTrailer(input: SignInput): { trailer: Uint8Array; metadata: ImageMetadata } {
  const metadata: ImageMetadata = {
    format: FORMAT_VERSION,
    payloadLength: input.payloadLength,
    payloadSha256: input.payloadSha256.toLowerCase(),
    version: input.version,
    models: input.models,
    signedAt: input.signedAt,
    ...(input.minVersion !== undefined ? { minVersion: input.minVersion } : {}),
  };
  const p = metadataProblem(metadata);
  if (p) throw new AgentError('IMAGE_SIGN_INVALID', `cannot sign: ${p}`);
  const bytes = encodeMetadata(metadata);
  const sigs: SignatureRecord[] = input.signers.map((s) => ({ role: s.role, keyId: s.key.id, signature: signBytes(s.key, signingMessage(s.role, bytes)) }));
  return { trailer: encodeTrailer(bytes, sigs), metadata };
}
