import { describe, expect, it } from 'vitest';
import { makeConfig, negotiate, requestOptions } from '../../agent/transfer/tftp-options.ts';

const base = { server: '198.18.32.1', file: 'fw.bin' };

describe('TFTP client configuration', () => {
  it('defaults: blksize 1468, windowsize 1, timeout 1 s, 5 retries, tsize, port 69', () => {
    expect(makeConfig(base)).toEqual({ ...base, port: 69, blksize: 1468, windowsize: 1, timeout: 1, retries: 5, tsize: true, options: true });
  });

  it('requests blksize, tsize=0, timeout; windowsize only when larger than 1', () => {
    expect(requestOptions(makeConfig(base))).toEqual([
      ['blksize', '1468'],
      ['tsize', '0'],
      ['timeout', '1'],
    ]);
    expect(requestOptions(makeConfig({ ...base, windowsize: 8, timeout: 3, tsize: false }))).toEqual([
      ['blksize', '1468'],
      ['timeout', '3'],
      ['windowsize', '8'],
    ]);
    expect(requestOptions(makeConfig({ ...base, options: false }))).toEqual([]);
  });

  const BAD: Array<[string, Record<string, unknown>]> = [
    ['blksize 7', { blksize: 7 }],
    ['blksize 65465', { blksize: 65465 }],
    ['blksize 1.5', { blksize: 1.5 }],
    ['windowsize 0', { windowsize: 0 }],
    ['windowsize 65536', { windowsize: 65536 }],
    ['timeout 0', { timeout: 0 }],
    ['timeout 256', { timeout: 256 }],
    ['retries -1', { retries: -1 }],
    ['port 0', { port: 0 }],
    ['host name', { server: 'tftp.example' }],
    ['bad octet', { server: '198.18.32.300' }],
    ['empty file', { file: '' }],
    ['file with NUL', { file: 'a\0b' }],
    ['file name too long for a 512-byte request', { file: 'x'.repeat(480) }],
  ];
  for (const [name, over] of BAD) {
    it(`rejects ${name} with TFTP_BAD_REQUEST`, () => {
      expect(() => makeConfig({ ...base, ...over })).toThrow(expect.objectContaining({ code: 'TFTP_BAD_REQUEST' }));
    });
  }
});

describe('TFTP OACK negotiation', () => {
  const cfg = makeConfig({ ...base, windowsize: 8 });

  it('takes what the server granted (lower blksize/windowsize, tsize, timeout)', () => {
    expect(negotiate(cfg, [['blksize', '1024'], ['tsize', '123456'], ['timeout', '1'], ['windowsize', '4']])).toEqual({
      blksize: 1024,
      windowsize: 4,
      timeout: 1,
      total: 123456,
      ignored: [],
    });
  });

  it('option names are case-insensitive; missing ones fall back to RFC 1350 values', () => {
    expect(negotiate(cfg, [['BLKSIZE', '1468']])).toEqual({ blksize: 1468, windowsize: 1, timeout: 1, total: null, ignored: [] });
    expect(negotiate(cfg, [])).toEqual({ blksize: 512, windowsize: 1, timeout: 1, total: null, ignored: [] });
  });

  it('ignores options it does not know', () => {
    expect(negotiate(cfg, [['rollover', '0']]).ignored).toEqual(['rollover']);
  });

  const BAD: Array<[string, Array<[string, string]>]> = [
    ['a larger blksize than asked', [['blksize', '1469']]],
    ['blksize below 8', [['blksize', '7']]],
    ['a larger window than asked', [['windowsize', '9']]],
    ['windowsize 0', [['windowsize', '0']]],
    ['a negative tsize', [['tsize', '-1']]],
    ['a non-decimal tsize', [['tsize', '0x10']]],
    ['timeout 0', [['timeout', '0']]],
    ['a repeated option', [['blksize', '512'], ['BlkSize', '512']]],
  ];
  for (const [name, oack] of BAD) {
    it(`rejects ${name} with TFTP_BAD_OACK`, () => {
      expect(() => negotiate(cfg, oack)).toThrow(expect.objectContaining({ code: 'TFTP_BAD_OACK' }));
    });
  }

  it('rejects an option we did not request', () => {
    const lockstep = makeConfig(base);
    expect(() => negotiate(lockstep, [['windowsize', '1']])).toThrow(expect.objectContaining({ code: 'TFTP_BAD_OACK' }));
    const noSize = makeConfig({ ...base, tsize: false });
    expect(() => negotiate(noSize, [['tsize', '10']])).toThrow(expect.objectContaining({ code: 'TFTP_BAD_OACK' }));
  });
});
