import { describe, expect, it } from 'vitest';
import { compareVersions, compileVersionPattern, parseVersion, versionFromFileName } from '../../agent/upgrade/version.ts';
import { isAgentError } from '../../agent/errors.ts';

describe('versionFromFileName (default pattern)', () => {
  it.each([
    ['ESH-3105_FW_1_02_00_20081006', '1.2.0'],
    ['2108-2109SERIES_FW_1_06_10_ALU-EWZ_20080808', '1.6.10'],
    ['FS-0900E_FW_1_03_00_20261123.bin', '1.3.0'],
    ['images/ESH-3105_FW_2_00_01_20261123.bin', '2.0.1'],
    ['esh-3105_fw_1_02_00.bin', '1.2.0'],
  ])('%s → %s', (name, v) => {
    expect(versionFromFileName(name)?.text).toBe(v);
  });

  it.each(['firmware.bin', 'ESH-3105_FW_X_02_00', '', 'FW_1_2_3'])('%s has no version', (name) => {
    expect(versionFromFileName(name)).toBeUndefined();
  });

  it('uses a configured pattern', () => {
    expect(versionFromFileName('router-v4.11.2.img', 'v(\\d+)\\.(\\d+)\\.(\\d+)')?.parts).toEqual([4, 11, 2]);
  });

  it('rejects a bad or group-less pattern with CONFIG_INVALID', () => {
    for (const p of ['(', '_FW_\\d+']) {
      let err: unknown;
      try {
        compileVersionPattern(p);
      } catch (e) {
        err = e;
      }
      expect(isAgentError(err, 'CONFIG_INVALID')).toBe(true);
    }
  });
});

describe('compareVersions', () => {
  const v = (t: string) => {
    const r = parseVersion(t);
    if (!r) throw new Error(t);
    return r;
  };
  it.each([
    ['1.2.0', '1.6.10', -1],
    ['1.6.10', '1.6.9', 1],
    ['1.10.0', '1.9.99', 1],
    ['1.2', '1.2.0', 0],
    ['2.0.0', '1.99.99', 1],
    ['v1.0.0', '1.0.0', 0],
  ] as const)('%s vs %s → %d', (a, b, r) => {
    expect(compareVersions(v(a), v(b))).toBe(r);
    expect(compareVersions(v(b), v(a))).toBe(-r === 0 ? 0 : -r);
  });

  it('parseVersion refuses non-versions', () => {
    expect(parseVersion('abc')).toBeUndefined();
    expect(parseVersion(null)).toBeUndefined();
    expect(parseVersion('1..2')).toBeUndefined();
  });
});
