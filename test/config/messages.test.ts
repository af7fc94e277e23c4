/**
 * The wording of config errors as the users read it. The schemas are built with `zod/mini`
 * (agent/util/zod.ts), which loads no locale: without the English one it installs, every
 * message below would be a bare "Invalid input". The expected texts are what classic `zod`
 * printed for the same inputs before the move.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load.ts';
import { parseConfig as parseLegConfig } from '../../agent/leg/config.ts';
import { errorOf } from '../helpers/errors.ts';

describe('config error messages (English, as with classic zod)', () => {
  it.each([
    [{ retry: { maxAttempts: 0 } }, 'config: retry.maxAttempts: Too small: expected number to be >=1'],
    [{ tpyo: 1 }, 'config: (root): Unrecognized key: "tpyo"'],
    [{ iface: 5 }, 'config: iface: Invalid input: expected string, received number'],
    [{ log: { format: 'xml' } }, 'config: log.format: Invalid option: expected one of "text"|"json"'],
    [{ iface: 'a'.repeat(16) }, 'config: iface: Too big: expected string to have <=15 characters'],
    [{ tftp: { blksize: 1.5 } }, 'config: tftp.blksize: Invalid input: expected int, received number'],
    [
      { snmp: { notify: [{ host: 'x' }] } },
      'config: snmp.notify.0.host: Invalid IPv4 address; snmp.community: snmp needs a community (read/write) or a v3 user; snmp.notify.0.community: a v2c manager needs a community',
    ],
  ])('%j → %s', (raw, message) => {
    const e = errorOf(() => parseConfig(raw));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe(message);
  });

  it('the LEG config: custom and built-in messages', () => {
    expect(errorOf(() => parseLegConfig({ trustedServers: ['x'] }, 'leg.json')).message).toBe('leg.json: trustedServers.0: expected an IPv4 address a.b.c.d');
    expect(errorOf(() => parseLegConfig({ rdr: { maxConnections: 0 } }, 'leg.json')).message).toBe('leg.json: rdr.maxConnections: Too small: expected number to be >=1');
  });
});

describe('zod is imported in one place', () => {
  it("no source file but agent/util/zod.ts imports 'zod' (classic zod would come back into the bundle)", () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const importers: string[] = [];
    const walk = (dir: string): void => {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (d.name.endsWith('.ts') && /from ['"]zod(\/[^'"]*)?['"]/.test(readFileSync(p, 'utf8'))) importers.push(relative(root, p));
      }
    };
    for (const top of ['agent', 'platform', 'scripts']) walk(join(root, top));
    expect(importers).toEqual(['agent/util/zod.ts']);
  });
});
