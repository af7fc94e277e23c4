/**
 * policy.signature → a per-download ImageCheck (or none when `off`). Pure: parses the trusted
 * keys once (a bad key is CONFIG_INVALID naming the key path) and fills the policy inputs from
 * the running image each time.
 */
import { AgentError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createImageCheck, type ImageCheck, type SignatureMode } from './check.ts';
import { parsePublicKey, type PublicKey } from './keys.ts';

export interface SignaturePolicy {
  mode: SignatureMode;
  trustedKeys: { manufacturer: readonly string[]; coSigner: readonly string[] };
  /** this CPE's option 60 vendor class */
  model: string;
  allowDowngrade: boolean;
}

export interface RunningImage {
  version: string | null;
  /** seconds; null/undefined when the running image was not verified as signed */
  signedAt?: number | null | undefined;
}

export type ImageCheckFactory = (running: RunningImage) => ImageCheck | undefined;

function parseAll(list: readonly string[], path: string): PublicKey[] {
  return list.map((t, i) => {
    try {
      return parsePublicKey(t);
    } catch (e) {
      throw new AgentError('CONFIG_INVALID', `${path}.${i}: ${e instanceof Error ? e.message : String(e)}`, { path: `${path}.${i}` });
    }
  });
}

export function imageCheckFactory(p: SignaturePolicy, log?: Logger): ImageCheckFactory {
  const mode = p.mode;
  if (mode === 'off') return () => undefined;
  const keys = { manufacturer: parseAll(p.trustedKeys.manufacturer, 'policy.trustedKeys.manufacturer'), coSigner: parseAll(p.trustedKeys.coSigner, 'policy.trustedKeys.coSigner') };
  if (keys.manufacturer.length === 0) throw new AgentError('CONFIG_INVALID', `policy.signature=${mode} needs policy.trustedKeys.manufacturer`, { path: 'policy.trustedKeys.manufacturer' });
  return (running) =>
    createImageCheck({
      mode,
      keys,
      policy: { model: p.model, runningVersion: running.version, runningSignedAt: running.signedAt ?? null, allowDowngrade: p.allowDowngrade },
      ...(log ? { log } : {}),
    });
}
