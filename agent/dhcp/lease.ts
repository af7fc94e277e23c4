/**
 * A bound lease as the client keeps it (and `dhcp --once --json` prints it). Times in
 * seconds are relative to `acquiredAt` (ms since the epoch, the moment the ACK arrived
 * on the clock the state machine was given).
 */
import type { Option43Offer } from '../option43/types.ts';
import type { LeaseConfig } from '../../platform/types.ts';

/** What the network backend applies (iface, address/prefix, routers, DNS, domain), plus: */
export interface Lease extends LeaseConfig {
  serverId: string;
  leaseSeconds: number;
  renewSeconds: number;
  rebindSeconds: number;
  acquiredAt: number;
  vendorClass: string;
  /** decoded with the profile of `vendorClass`; absent when the server sent no option 43 */
  option43?: Option43Offer;
  /** raw option 43, lowercase hex */
  option43Hex?: string;
  /** set when option 43 was present but could not be decoded (typed error code + message) */
  option43Error?: { code: string; message: string };
}
