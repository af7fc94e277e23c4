/**
 * Network backend that only records what it was asked to do (tests, `--dry-run` style
 * previews). `inUse` decides ARP probe answers; `failApply` makes applyLease throw once.
 */
import type { LeaseConfig, NetConfigurator } from '../types.ts';
import { AgentError } from '../../agent/errors.ts';

export type NetCall =
  | { op: 'addBroadcastRoute'; iface: string }
  | { op: 'removeBroadcastRoute'; iface: string }
  | { op: 'applyLease'; lease: LeaseConfig; previous?: LeaseConfig }
  | { op: 'removeLease'; lease: LeaseConfig }
  | { op: 'addressInUse'; iface: string; address: string };

export class DryRunNet implements NetConfigurator {
  readonly calls: NetCall[] = [];
  /** addresses the probe reports as taken */
  readonly inUse = new Set<string>();
  /** when set, the next applyLease throws this error code */
  failApply: string | undefined;
  /** the lease the interface would hold now */
  applied: LeaseConfig | undefined;

  async addBroadcastRoute(iface: string): Promise<void> {
    this.calls.push({ op: 'addBroadcastRoute', iface });
  }

  async removeBroadcastRoute(iface: string): Promise<void> {
    this.calls.push({ op: 'removeBroadcastRoute', iface });
  }

  async applyLease(lease: LeaseConfig, previous?: LeaseConfig): Promise<void> {
    this.calls.push(previous ? { op: 'applyLease', lease, previous } : { op: 'applyLease', lease });
    if (this.failApply !== undefined) {
      const code = this.failApply;
      this.failApply = undefined;
      throw new AgentError(code, 'dry-run: applyLease failure requested', { iface: lease.iface });
    }
    this.applied = lease;
  }

  async removeLease(lease: LeaseConfig): Promise<void> {
    this.calls.push({ op: 'removeLease', lease });
    if (this.applied?.address === lease.address) this.applied = undefined;
  }

  async addressInUse(iface: string, address: string): Promise<boolean> {
    this.calls.push({ op: 'addressInUse', iface, address });
    return this.inUse.has(address);
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }
}
