import { describe, expect, it } from 'vitest';
import { renderIscClass, renderIscOptionSpace, renderIscVendorOptions, iscQuote } from '../../agent/option43/isc.ts';
import { CTS_PROFILE } from '../../agent/option43/profiles/cts.ts';
import { AgentError } from '../../agent/errors.ts';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

describe('ISC dhcpd.conf rendering', () => {
  it('declares the CTS option space', () => {
    expect(renderIscOptionSpace(CTS_PROFILE)).toBe(
      [
        'option space cts;',
        'option cts.protocol code 1 = unsigned integer 8;',
        'option cts.server code 2 = ip-address;',
        'option cts.user code 3 = text;',
        'option cts.password code 4 = text;',
        'option cts.software-file code 5 = text;',
        'option cts.software-md5 code 6 = string;',
        'option cts.config-file code 7 = text;',
        'option cts.config-md5 code 8 = string;',
        'option cts.flags code 9 = unsigned integer 16;',
        '',
      ].join('\n'),
    );
  });
  it('renders an offer as vendor-option-space statements (raw MD5 as colon-hex string)', () => {
    const text = renderIscVendorOptions({ protocol: 'ftp', server: '198.18.0.2', user: 'cpe', password: 'p"w\\x', softwareFile: 'a.bin', softwareMd5: MD5, urgent: true, unknown: [] }, CTS_PROFILE);
    expect(text).toBe(
      [
        'vendor-option-space cts;',
        'option cts.protocol 1;',
        'option cts.server 198.18.0.2;',
        'option cts.user "cpe";',
        'option cts.password "p\\"w\\\\x";',
        'option cts.software-file "a.bin";',
        'option cts.software-md5 d4:1d:8c:d9:8f:00:b2:04:e9:80:09:98:ec:f8:42:7e;',
        'option cts.flags 1;',
        '',
      ].join('\n'),
    );
    expect(renderIscVendorOptions({ softwareMd5: MD5, unknown: [] }, CTS_PROFILE, 'hex')).toContain(`option cts.software-md5 "${MD5}";`);
  });
  it('a class block matches option 60', () => {
    expect(renderIscClass('FS-0900E', { protocol: 'tftp', unknown: [] }, CTS_PROFILE)).toBe(
      'class "vc-FS-0900E" {\n  match if option vendor-class-identifier = "FS-0900E";\n  vendor-option-space cts;\n  option cts.protocol 0;\n}\n',
    );
  });
  it('quotes control characters as octal escapes', () => {
    expect(iscQuote('a\nb')).toBe('"a\\012b"');
  });
  it('rejects offers it cannot express', () => {
    expect(() => renderIscVendorOptions({ unknown: [{ code: 20, hex: '00' }] }, CTS_PROFILE)).toThrow(AgentError);
    expect(() => renderIscVendorOptions({ server: 'nope', unknown: [] }, CTS_PROFILE)).toThrow(/OPT43|IPv4/);
  });
});
