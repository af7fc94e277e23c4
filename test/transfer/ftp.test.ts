/**
 * FTP fetcher checks that need no FTP server: request validation (nothing is sent, the
 * password is never echoed) and a refused connection on 127.0.0.1. The protocol behaviour
 * against a real server is in ftp.lab.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { createServer } from 'node:net';
import { createFtpFetcher } from '../../agent/transfer/ftp.ts';
import { createLogger } from '../../agent/log.ts';
import { AgentError, isAgentError } from '../../agent/errors.ts';
import type { TransferRequest } from '../../agent/transfer/types.ts';

const sink = { write: (): void => undefined };

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('fetchFtp request validation', () => {
  const lines: string[] = [];
  const fetchFtp = createFtpFetcher({ log: createLogger({ format: 'json', level: 'debug', destination: { write: (s: string) => lines.push(s) } }), connectTimeoutMs: 2000 });
  const base: TransferRequest = { protocol: 'ftp', server: '127.0.0.1', file: 'fw.bin', user: 'cpe', password: 'Top-Secret-1' };

  it.each([
    ['empty file name', { file: '' }],
    ['CR/LF in the file name (command injection)', { file: 'fw.bin\r\nDELE x' }],
    ['NUL in the user', { user: 'a\0b' }],
    ['a port out of range', { port: 70000 }],
    ['no server', { server: '' }],
  ])('%s → FTP_INVALID_REQUEST', async (_name, patch) => {
    await expect(fetchFtp({ ...base, ...patch }, sink)).rejects.toSatisfy((e) => isAgentError(e, 'FTP_INVALID_REQUEST'));
  });

  it('a password with control characters is refused without being echoed', async () => {
    const err = await fetchFtp({ ...base, password: 'Secret\r\nQUIT' }, sink).catch((e: unknown) => e);
    expect(isAgentError(err, 'FTP_INVALID_REQUEST')).toBe(true);
    expect(JSON.stringify((err as AgentError).toJSON())).not.toContain('Secret');
  });

  it('a refused connection → FTP_UNREACHABLE (ECONNREFUSED), password in no log line', async () => {
    const port = await closedPort();
    const err = await fetchFtp({ ...base, port }, sink).catch((e: unknown) => e);
    expect(isAgentError(err, 'FTP_UNREACHABLE')).toBe(true);
    expect((err as AgentError).details).toMatchObject({ cause: 'ECONNREFUSED', server: '127.0.0.1', port });
    expect(lines.join('')).toContain('ftp: fetching fw.bin');
    expect(lines.join('')).not.toContain('Top-Secret-1');
    expect(JSON.stringify((err as AgentError).toJSON())).not.toContain('Top-Secret-1');
  });

  it('an abort before the start → FTP_ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(fetchFtp(base, sink, { signal: ac.signal })).rejects.toSatisfy((e) => isAgentError(e, 'FTP_ABORTED'));
  });
});
