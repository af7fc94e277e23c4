/**
 * LEG configuration (zod). Every key is documented in docs/leg.md with its equivalent in
 * the Cisco SCMS SM SCE-Sniffer DHCP LEG. CLI flags override the file; the result is
 * validated once, so the rest of the LEG never sees a bad value.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentError } from '../errors.ts';

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
const selector = z
  .string()
  .refine(validSelector, { message: 'expected a DHCP option CODE (1..254) or 82.SUB' })
  .transform((s) => parseSelector(s).key);

export const LegConfigSchema = z
  .object({
    /** Cisco `is_cable`: subscriber = modem MAC from option 82 remote-ID. */
    cable: z.boolean().default(false),
    /** non-cable: the option holding the subscriber ID ("61", "82.1", "82.6"…); null = none. */
    subscriberOption: selector.nullable().default(null),
    /** non-cable: use `IP_a.b.c.d` when the subscriber option is absent. */
    fallbackToIp: z.boolean().default(false),
    policy: z
      .object({
        /** options carrying package information, tried in order */
        options: z.array(selector).default([]),
        /** option value (text, or lowercase hex when not printable) → package name */
        packages: z.record(z.string(), z.string().min(1)).default({}),
        /** package when no option matches; null = log on without package */
        defaultPackage: z.string().min(1).nullable().default(null),
      })
      .strict()
      .default({ options: [], packages: {}, defaultPackage: null }),
    /** Cisco SM auto-logout: log out IP mappings whose lease expired. */
    autoLogout: z.boolean().default(true),
    /** Cisco `log_failures`: log every rejected transaction (they are always counted). */
    logFailures: z.boolean().default(true),
    /** a DECLINE logs out the address the ACK just logged on for that client */
    declineLogsOut: z.boolean().default(true),
    /** an ACK/RELEASE repeating a transaction already applied (same xid, client, IP) within this window is a duplicate */
    duplicateWindowSeconds: z.number().int().min(0).max(3600).default(60),
    /** database directory; absent = temporary in-memory database */
    stateDir: z.string().min(1).optional(),
    /** JSON-lines events file; absent = stdout */
    eventsFile: z.string().min(1).optional(),
    batch: z
      .object({
        /** commit after this many transactions … */
        maxTransactions: z.number().int().min(1).max(1_000_000).default(5000),
        /** … or after this long (live sources) */
        maxDelayMs: z.number().int().min(1).max(60_000).default(200),
      })
      .strict()
      .default({ maxTransactions: 5000, maxDelayMs: 200 }),
  })
  .strict();

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
