/**
 * What the daemon needs from the DHCP client, the transfer layer and the staging step,
 * as narrow ports. wire.ts binds them to the real modules (DhcpRunner, fetchTftp /
 * fetchFtp, stage()); unit tests bind them to in-memory fakes.
 */
import type { Lease } from '../dhcp/lease.ts';
import type { Fetcher, TransferProgress } from '../transfer/types.ts';
import type { StageRequest, StageOptions, StageResult } from '../upgrade/stage.ts';
import type { ProgressRenderer } from '../transfer/progress.ts';

export interface DhcpCallbacks {
  /** every DHCPACK (initial, renew, rebind) */
  onAck(lease: Lease): void;
  /** the lease expired or was NAKed */
  onLost(reason: string): void;
}

export interface DhcpPort {
  start(): Promise<void>;
  /** Sends DHCPRELEASE for the bound lease (no-op when none) and deconfigures. */
  release(): Promise<void>;
  stop(): Promise<void>;
}

export type DhcpFactory = (cb: DhcpCallbacks) => DhcpPort;

export type StageFn = (req: StageRequest, opts?: StageOptions) => Promise<StageResult>;

export interface Fetchers {
  tftp: Fetcher;
  ftp: Fetcher;
}

export type ProgressFactory = (label: string) => ProgressRenderer;

export type { TransferProgress };
