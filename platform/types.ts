/**
 * Board interfaces. The agent depends on these only; the config picks a backend, one file
 * per backend (platform/sim/*, later block device, MTD, U-Boot env).
 */
export type SlotName = 'A' | 'B';

export function otherSlot(s: SlotName): SlotName {
  return s === 'A' ? 'B' : 'A';
}

export interface SlotWriter {
  /**
   * Sequential write; awaiting it is the backpressure. May return void: the chunk was
   * accepted (copied) synchronously and the caller may reuse its memory at once.
   */
  write(chunk: Uint8Array): Promise<void> | void;
  /** Flush and fsync; after this the slot holds exactly the bytes written. */
  commit(): Promise<{ bytes: number }>;
  /** Discard: the slot is marked empty/invalid; never touches the other slot. */
  abort(): Promise<void>;
}

export interface Slots {
  /** Capacity of one slot in bytes. */
  capacity(slot: SlotName): Promise<number>;
  /** Opens the slot for writing from offset 0. Must never be called on the running slot. */
  openWriter(slot: SlotName): Promise<SlotWriter>;
  /**
   * Streams the first `length` bytes of the slot (read-back verification). A yielded chunk
   * may be reused for the next one (the sim backend reads through one buffer): copy to keep.
   */
  read(slot: SlotName, length: number): AsyncIterable<Uint8Array>;
}

export interface BootState {
  /** slot the bootloader will boot next */
  next: SlotName;
  /** slot that booted (the running image) */
  current: SlotName;
  /** true while `next` is on trial: a failed boot falls back to the other slot */
  trial: boolean;
}

/**
 * The boot environment (U-Boot env, RAUC bootchooser state, the sim's bootenv.json).
 *
 * Contract for every backend: a damaged environment must never brick the device. Like a
 * bootloader whose environment fails its CRC, a backend that finds its environment
 * unreadable (bad checksum, not parseable, truncated, empty, zero bytes, values out of range
 * or inconsistent) at boot
 *   1. keeps the damaged copy aside (a file beside it, or the redundant env copy) for
 *      inspection, never overwriting it before it is kept;
 *   2. boots the slot holding a verified image: the agent names it (a `recover` callback at
 *      the boot step; it checks the slots against the recorded digests and prefers the
 *      committed, i.e. last healthy, image); without one, the first non-empty slot, A first;
 *   3. writes a fresh environment for that slot (not on trial);
 *   4. reports it (the boot outcome carries `envRecovered`; the agent logs it at error level
 *      with event `bootenv.recovered` and records it in the state).
 * At run time a backend that finds its environment damaged rewrites the last one it read or
 * wrote (same keep-aside and log). read() only throws for I/O errors of the medium.
 */
export interface BootEnv {
  read(): Promise<BootState>;
  /** Boot `slot` next time, on trial. */
  setNext(slot: SlotName): Promise<void>;
  /** The running slot is good: make it permanent (ends the trial). */
  markGood(): Promise<void>;
}

export interface Rebooter {
  /** Reboots the device. The sim backend ends the process. */
  reboot(reason: string): Promise<void>;
}

export interface LeaseConfig {
  iface: string;
  address: string;
  prefixLength: number;
  routers: string[];
  dns: string[];
  /** informational, for backends that write resolv.conf etc. */
  domain?: string;
}

export interface NetConfigurator {
  /** Host route 255.255.255.255/32 dev IF so broadcasts leave an unconfigured interface. */
  addBroadcastRoute(iface: string): Promise<void>;
  removeBroadcastRoute(iface: string): Promise<void>;
  /** Apply (or re-apply) a lease: address/prefix, default route, DNS. Idempotent. */
  applyLease(lease: LeaseConfig, previous?: LeaseConfig): Promise<void>;
  /** Remove what applyLease set (DNS included: what was there before is put back). */
  removeLease(lease: LeaseConfig): Promise<void>;
  /** The client stops, keeping the address for INIT-REBOOT: put back the DNS config found before. */
  restoreDns?(iface: string): Promise<void>;
  /** ARP probe (RFC 5227): true when another host answers for `address`. */
  addressInUse(iface: string, address: string): Promise<boolean>;
}
