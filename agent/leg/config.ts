/**
 * LEG configuration (zod). Every key is documented in docs/leg.md with its equivalent in
 * the Cisco SCMS SM SCE-Sniffer DHCP LEG. CLI flags override the file; the result is
 * validated once, so the rest of the LEG never sees a bad value.
 */
import { readFileSync } from 'node:fs';
import * as z from '../util/zod.ts';
import { AgentError } from '../errors.ts';
import { NO_KEY, ipKey } from './key-table.ts';

/** a.b.c.d in canonical form (decimal 0–255, no leading zeros) */
const isIPv4 = (s: string): boolean => ipKey(s) !== NO_KEY;

/** `CODE` or `82.SUB`: a DHCP option (1..254), or a sub-option of option 82. */
export const SELECTOR_RE = /^(\d{1,3})(?:\.(\d{1,3}))?$/;

export interface OptionSelector {
  code: number;
  sub?: number;
  /** canonical text, e.g. "82.1" */
  key: string;
}

export function parseSelector(text: string): OptionSelector {
  const m = SELECTOR_RE.exec(text.trim());
  const code = m ? Number(m[1]) : NaN;
  const sub = m && m[2] !== undefined ? Number(m[2]) : undefined;
  if (!m || code < 1 || code > 254 || code === 52 || code === 53) {
    throw new AgentError('CONFIG_INVALID', `not a DHCP option selector: ${JSON.stringify(text)} (expected CODE 1..254 or 82.SUB)`, { value: text });
  }
  if (sub !== undefined && (code !== 82 || sub > 255)) {
    throw new AgentError('CONFIG_INVALID', `sub-options are only addressable in option 82 (82.0..82.255): ${JSON.stringify(text)}`, { value: text });
  }
  return sub === undefined ? { code, key: String(code) } : { code, sub, key: `${code}.${sub}` };
}

function validSelector(s: string): boolean {
  try {
    parseSelector(s);
    return true;
  } catch {
    return false;
  }
}

/** Stored canonical ("82.1", "60"): the rules look options up by this text. */
const selector = z.pipe(
  z.string().check(z.refine(validSelector, { message: 'expected a DHCP option CODE (1..254) or 82.SUB' })),
  z.transform((s: string) => parseSelector(s).key),
);

const ipv4 = z.pipe(
  z.string().check(z.refine((s) => isIPv4(s.trim()), { message: 'expected an IPv4 address a.b.c.d' })),
  z.transform((s: string) => s.trim()),
);

/** an integer in lo..hi */
const intIn = (lo: number, hi: number): z.ZodMiniInt => z.int().check(z.gte(lo), z.lte(hi));

/** `a.b.c.d/len` (or a bare address = /32); IPv6 prefixes too (the RDR listener may listen on ::). */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const t = text.trim();
  const slash = t.indexOf('/');
  const address = slash < 0 ? t : t.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : address.includes(':') && /^[0-9a-fA-F:.]+$/.test(address) ? 'ipv6' : undefined;
  const max = family === 'ipv6' ? 128 : 32;
  const prefix = slash < 0 ? max : /^\d{1,3}$/.test(t.slice(slash + 1)) ? Number(t.slice(slash + 1)) : NaN;
  if (family === undefined || !(prefix >= 0 && prefix <= max)) {
    throw new AgentError('CONFIG_INVALID', `not an address or CIDR prefix: ${JSON.stringify(text)} (expected a.b.c.d/len)`, { value: text });
  }
  return { address, prefix, family };
}

function validCidr(s: string): boolean {
  try {
    parseCidr(s);
    return true;
  } catch {
    return false;
  }
}

export const RdrConfigSchema = z.strictObject({
  /** peers (CIDR) allowed to connect; default loopback only */
  allow: z._default(z.array(z.string().check(z.refine(validCidr, { message: 'expected an address or CIDR prefix (a.b.c.d/len)' }))), ['127.0.0.0/8', '::1/128']),
  /** open connections in all … */
  maxConnections: z._default(intIn(1, 65_535), 64),
  /** … and per peer address */
  maxConnectionsPerPeer: z._default(intIn(1, 65_535), 4),
  /** largest record accepted (payload_size + 5; the 4-digit length allows 10004); a bigger one closes the connection */
  maxFrameBytes: z._default(intIn(64, 10_004), 10_004),
  /** a connection silent this long is closed (0 = never) */
  idleTimeoutSeconds: z._default(intIn(0, 86_400), 600),
  /** records per second per connection beyond which it is closed (burst: one second's worth) */
  maxRecordsPerSecond: z._default(intIn(1, 10_000_000), 20_000),
});

export type RdrConfig = z.infer<typeof RdrConfigSchema>;
export const RDR_DEFAULTS: RdrConfig = RdrConfigSchema.parse({});

export const LegConfigSchema = z.strictObject({
  /** Cisco `is_cable`: subscriber = modem MAC from option 82 remote-ID. */
  cable: z._default(z.boolean(), false),
  /** non-cable: the option holding the subscriber ID ("61", "82.1", "82.6"…); null = none. */
  subscriberOption: z._default(z.nullable(selector), null),
  /** non-cable: use `IP_a.b.c.d` when the subscriber option is absent. */
  fallbackToIp: z._default(z.boolean(), false),
  policy: z._default(
    z.strictObject({
      /** options carrying package information, tried in order */
      options: z._default(z.array(selector), []),
      /** option value (text, or lowercase hex when not printable) → package name */
      packages: z._default(z.record(z.string(), z.string().check(z.minLength(1))), {}),
      /** package when no option matches; null = log on without package */
      defaultPackage: z._default(z.nullable(z.string().check(z.minLength(1))), null),
    }),
    { options: [], packages: {}, defaultPackage: null },
  ),
  /** Cisco SM auto-logout: log out IP mappings whose lease expired. */
  autoLogout: z._default(z.boolean(), true),
  /** Cisco `log_failures`: log every rejected transaction (they are always counted). */
  logFailures: z._default(z.boolean(), true),
  /** a DECLINE logs out the address the ACK just logged on for that client */
  declineLogsOut: z._default(z.boolean(), true),
  /** an ACK/RELEASE repeating a transaction already applied (same xid, client, IP) within this window is a duplicate */
  duplicateWindowSeconds: z._default(intIn(0, 3600), 60),
  /**
   * DHCP servers (option 54, or the source address when it is absent) whose ACKs the LEG
   * acts on; RELEASE/DECLINE only when addressed to one of them. Empty = every server.
   */
  trustedServers: z._default(z.array(ipv4).check(z.maxLength(1024)), []),
  /** the RDR listener (`leg run --rdr-listen`) */
  rdr: z._default(RdrConfigSchema, RDR_DEFAULTS),
  /** database directory; absent = temporary in-memory database */
  stateDir: z.optional(z.string().check(z.minLength(1))),
  /** JSON-lines events file; absent = stdout */
  eventsFile: z.optional(z.string().check(z.minLength(1))),
  batch: z._default(
    z.strictObject({
      /** commit after this many transactions … */
      maxTransactions: z._default(intIn(1, 1_000_000), 5000),
      /** … or after this long (live sources) */
      maxDelayMs: z._default(intIn(1, 60_000), 200),
    }),
    { maxTransactions: 5000, maxDelayMs: 200 },
  ),
});

export type LegConfig = z.infer<typeof LegConfigSchema>;
export type LegConfigInput = z.input<typeof LegConfigSchema>;

export function parseConfig(input: unknown, where = 'config'): LegConfig {
  const r = LegConfigSchema.safeParse(input);
  if (!r.success) {
    const first = r.error.issues[0];
    const path = first ? first.path.join('.') : '';
    throw new AgentError('CONFIG_INVALID', `${where}: ${path ? path + ': ' : ''}${first?.message ?? 'invalid'}`, { path, issues: r.error.issues.length });
  }
  return r.data;
}

/** The file's settings, not yet validated (flags are merged in before `parseConfig`). */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AgentError('CONFIG_UNREADABLE', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new AgentError('CONFIG_INVALID', `${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new AgentError('CONFIG_INVALID', `${file}: expected a JSON object`, { file });
  // "$comment" keys document the example file; they are not settings.
  return stripComments(json) as Record<string, unknown>;
}

export function loadConfigFile(file: string): LegConfig {
  return parseConfig(readConfigFile(file), file);
}

function stripComments(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripComments);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripComments(x);
    return out;
  }
  return v;
}
