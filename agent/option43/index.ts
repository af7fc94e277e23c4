/**
 * Option 43 entry points: the profile is chosen by the option 60 vendor class the agent
 * sent; profiles are data (agent/option43/profiles/*).
 *
 * OWNER: codec helper. Signature is the contract.
 */
import type { Option43Offer } from './types.ts';
import { AgentError } from '../errors.ts';

export type { Option43Offer } from './types.ts';

/** Decodes option 43 bytes with the profile registered for `vendorClass` (CTS by default). */
export function decodeOption43ForClass(_vendorClass: string, _data: Uint8Array): Option43Offer {
  throw new AgentError('NOT_IMPLEMENTED', 'decodeOption43ForClass');
}
