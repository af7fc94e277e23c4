import { describe, it, expect } from 'vitest';
import { parseConfig } from '../../agent/config/load.ts';
import { generateKeyPair } from '../../agent/image/keys.ts';
import { errorOf } from '../helpers/errors.ts';

const k = generateKeyPair().publicText;

describe('policy.signature config', () => {
  it('defaults to off with no keys; require with a manufacturer key is valid', () => {
    expect(parseConfig({}).policy).toMatchObject({ signature: 'off', trustedKeys: { manufacturer: [], coSigner: [] } });
    expect(parseConfig({ policy: { signature: 'require', trustedKeys: { manufacturer: [k], coSigner: [k] } } }).policy.signature).toBe('require');
  });

  it('warn/require without a manufacturer key, a malformed key or an unknown mode → CONFIG_INVALID naming the key', () => {
    expect(errorOf(() => parseConfig({ policy: { signature: 'require' } }))).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('policy.trustedKeys.manufacturer') });
    expect(errorOf(() => parseConfig({ policy: { signature: 'warn', trustedKeys: { manufacturer: ['ed25519:abc'] } } }))).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('policy.trustedKeys.manufacturer.0') });
    expect(errorOf(() => parseConfig({ policy: { signature: 'strict' } }))).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('policy.signature') });
  });
});
