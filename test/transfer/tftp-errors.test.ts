import { describe, expect, it } from 'vitest';
import { errorFromServer, tftpErrorCode } from '../../agent/transfer/tftp-errors.ts';

describe('TFTP ERROR mapping', () => {
  const TABLE: Array<[number, string]> = [
    [0, 'TFTP_ERROR'],
    [1, 'TFTP_FILE_NOT_FOUND'],
    [2, 'TFTP_ACCESS'],
    [3, 'TFTP_DISK_FULL'],
    [4, 'TFTP_ILLEGAL_OP'],
    [5, 'TFTP_UNKNOWN_TID'],
    [6, 'TFTP_FILE_EXISTS'],
    [7, 'TFTP_NO_USER'],
    [8, 'TFTP_OPTION_REFUSED'],
    [9, 'TFTP_ERROR'],
    [65535, 'TFTP_ERROR'],
  ];
  for (const [code, name] of TABLE) {
    it(`ERROR ${code} -> ${name}`, () => {
      expect(tftpErrorCode(code)).toBe(name);
      const e = errorFromServer(code, 'text from server');
      expect(e.code).toBe(name);
      expect(e.message).toContain('text from server');
      expect(e.details).toMatchObject({ serverCode: code, serverMessage: 'text from server' });
    });
  }

  it('keeps server text printable and bounded', () => {
    const e = errorFromServer(1, `bad\x1b[31m\n${'x'.repeat(500)}`);
    expect(e.message).not.toMatch(/[\x00-\x1f]/);
    expect(String(e.details.serverMessage).length).toBeLessThanOrEqual(201);
  });
});
