/**
 * Remembers the bound lease across restarts (for INIT-REBOOT): one JSON file per interface
 * in the state directory, written atomically (temp + fsync + rename + dir fsync), mode 0600.
 * It holds only what INIT-REBOOT needs (address, prefix, routers, DNS, server, times): never
 * option 43, decoded or raw, because that carries the FTP password (secrets are not kept at
 * rest; the next ACK brings the offer again). A file written by an older version that still
 * holds option 43 is rewritten without it when read. A missing, unreadable or invalid file
 * reads as "no lease" (reported, never fatal): the client then simply DISCOVERs.
 */
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from '../util/zod.ts';
import type { Lease } from './lease.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';

const ip = z.string().check(z.regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/));

const leaseSchema = z.object({
  iface: z.string().check(z.minLength(1)),
  address: ip,
  prefixLength: z.int().check(z.gte(1), z.lte(32)),
  routers: z.array(ip),
  dns: z.array(ip),
  domain: z.optional(z.string()),
  serverId: ip,
  leaseSeconds: z.int().check(z.positive()),
  renewSeconds: z.int().check(z.nonnegative()),
  rebindSeconds: z.int().check(z.nonnegative()),
  acquiredAt: z.number(),
  vendorClass: z.string(),
});

/** The fields of a lease that are kept at rest: everything but option 43 (it holds the password). */
export function leaseAtRest(lease: Lease): Lease {
  const { option43: _offer, option43Hex: _hex, option43Error: _err, ...rest } = lease;
  return rest;
}

const SECRET_KEYS = ['option43', 'option43Hex', 'option43Error'];

const fileSchema = z.object({ version: z.literal(1), lease: leaseSchema });

export function leaseFilePath(stateDir: string, iface: string): string {
  return join(stateDir, `dhcp-lease-${iface}.json`);
}

export type LoadedLease = { kind: 'ok'; lease: Lease } | { kind: 'missing' } | { kind: 'invalid'; reason: string };

export async function loadLease(stateDir: string, iface: string): Promise<LoadedLease> {
  let text: string;
  try {
    text = await readFile(leaseFilePath(stateDir, iface), 'utf8');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: e instanceof Error ? e.message : String(e) };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) return { kind: 'invalid', reason: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 300) };
  if (r.data.lease.iface !== iface) return { kind: 'invalid', reason: `lease is for ${r.data.lease.iface}` };
  const lease = leaseAtRest(r.data.lease);
  const raw = (json as { lease?: Record<string, unknown> }).lease ?? {};
  if (SECRET_KEYS.some((k) => k in raw)) await saveLease(stateDir, lease).catch(() => undefined);
  return { kind: 'ok', lease };
}

export async function saveLease(stateDir: string, lease: Lease): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(leaseFilePath(stateDir, lease.iface), JSON.stringify({ version: 1, lease: leaseAtRest(lease) }, null, 2) + '\n', { code: 'DHCP_LEASE_SAVE_FAILED', mode: 0o600 });
}

export async function clearLease(stateDir: string, iface: string): Promise<void> {
  try {
    await unlink(leaseFilePath(stateDir, iface));
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
  }
}
