/** The sim platform reads version and signing time from a slot's signature trailer (state rebuild, factory image). */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { openSimAgentPlatform } from '../../agent/daemon/platform-sim.ts';
import { slotPath } from '../../platform/sim/index.ts';
import { silentLogger } from '../../agent/log.ts';
import { buildTrailer } from '../../agent/image/sign.ts';
import { generateKeyPair, parsePrivateKey } from '../../agent/image/keys.ts';

const key = parsePrivateKey(generateKeyPair().privatePem);
function signedFile(payload: Uint8Array, version: string, signedAt: number): Uint8Array {
  const { trailer } = buildTrailer({ payloadLength: payload.length, payloadSha256: createHash('sha256').update(payload).digest('hex'), version, models: ['X'], signedAt, signers: [{ role: 'manufacturer', key }] });
  return Buffer.concat([payload, trailer]);
}

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sim platform: signed slot contents', () => {
  it('inspectSlot: version and signing time from the trailer; none for an unsigned image', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpf-slotinfo-'));
    const p = await openSimAgentPlatform({ dir, versionPattern: '_FW_(\\d+)_(\\d+)_(\\d+)' }, silentLogger());
    await writeFile(slotPath(dir, 'A'), signedFile(randomBytes(70_000), '2.1.0', 1_800_000_000));
    await writeFile(slotPath(dir, 'B'), randomBytes(70_000));
    expect(await p.inspectSlot('A')).toMatchObject({ size: expect.any(Number), signed: { version: '2.1.0', signedAt: 1_800_000_000 } });
    expect((await p.inspectSlot('B'))?.signed).toBeUndefined();
  });

  it('installFactory: a signed factory image gives its signed version (the file name is only the fallback)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpf-slotinfo-'));
    const factory = join(dir, 'X_FW_1_00_00.bin');
    await writeFile(factory, signedFile(randomBytes(5000), '1.2.3', 1_700_000_000));
    const p = await openSimAgentPlatform({ dir: join(dir, 'sim'), factoryImage: factory, versionPattern: '_FW_(\\d+)_(\\d+)_(\\d+)' }, silentLogger());
    expect(await p.installFactory('A')).toMatchObject({ version: '1.2.3', signed: { version: '1.2.3', signedAt: 1_700_000_000 } });
  });
});
