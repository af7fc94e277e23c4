/**
 * TFTP ERROR packets -> typed AgentErrors. Callers branch on `code`; the server's own
 * message is kept (sanitised, bounded) in the message and in `details.serverMessage`.
 */
import { AgentError, type ErrorDetails } from '../errors.ts';

const BY_CODE: Readonly<Record<number, string>> = {
  1: 'TFTP_FILE_NOT_FOUND',
  2: 'TFTP_ACCESS',
  3: 'TFTP_DISK_FULL',
  4: 'TFTP_ILLEGAL_OP',
  5: 'TFTP_UNKNOWN_TID',
  6: 'TFTP_FILE_EXISTS',
  7: 'TFTP_NO_USER',
  8: 'TFTP_OPTION_REFUSED',
};

/** The AgentError code for a TFTP error code (TFTP_ERROR for 0 and anything unknown). */
export function tftpErrorCode(code: number): string {
  return BY_CODE[code] ?? 'TFTP_ERROR';
}

/** Printable, single-line, at most 200 characters: server text is untrusted. */
export function sanitizeServerText(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

export function errorFromServer(code: number, message: string, details: ErrorDetails = {}): AgentError {
  const text = sanitizeServerText(message);
  return new AgentError(tftpErrorCode(code), `TFTP server error ${code}: ${text || '(no message)'}`, {
    serverCode: code,
    serverMessage: text,
    ...details,
  });
}
