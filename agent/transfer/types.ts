/**
 * One interface for every download protocol. A fetcher streams the remote file into a
 * ByteSink strictly in order (resumes and retransmissions are hidden inside the fetcher),
 * reports progress, and learns the size before the first byte when the server tells it
 * (TFTP tsize, FTP SIZE) so the caller can refuse an image larger than the slot before
 * anything is written.
 */
export interface TransferRequest {
  protocol: 'tftp' | 'ftp';
  /** dotted IPv4 (or host name for FTP) */
  server: string;
  port?: number;
  /** remote file name, sent to the server as given; never used as a local path */
  file: string;
  user?: string;
  /** secret: never logged */
  password?: string;
}

export interface TransferProgress {
  bytes: number;
  /** total size when known (tsize / SIZE) */
  total?: number;
  /** bytes per second, smoothed */
  rate: number;
}

export interface ByteSink {
  /**
   * Called with each chunk in order; awaiting it is the backpressure. The chunk belongs to
   * the sink only until the returned promise settles: a fetcher may reuse its memory for the
   * next read (the FTP fetcher does, to stay allocation-free), so a sink that keeps data
   * must copy it.
   */
  write(chunk: Uint8Array): Promise<void> | void;
}

export interface TransferOptions {
  onProgress?: (p: TransferProgress) => void;
  /**
   * Called once, before the first write, when the total size becomes known. Throwing
   * (e.g. an AgentError SLOT_TOO_SMALL) aborts the transfer with that error.
   */
  onSize?: (total: number) => void;
  signal?: AbortSignal;
}

export interface TransferResult {
  bytes: number;
  total?: number;
  /** milliseconds */
  elapsedMs: number;
}

export type Fetcher = (req: TransferRequest, sink: ByteSink, opts?: TransferOptions) => Promise<TransferResult>;
