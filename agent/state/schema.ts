/**
 * The persistent state file (`<stateDir>/state.json`): what the agent must never lose
 * across restarts and reboots. Validated with zod on load; anything that does not match is
 * a corrupt file (kept aside, state rebuilt from the slots).
 */
import * as z from '../util/zod.ts';
import { option43OfferSchema } from '../option43/schema.ts';

const slot = z.enum(['A', 'B']);
const md5 = z.string().check(z.regex(/^[0-9a-f]{32}$/));
const ms = z.int().check(z.nonnegative());
const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/));

export const imageRecordSchema = z.object({
  slot,
  md5,
  sha256: z.nullable(sha256),
  size: z.int().check(z.nonnegative()),
  version: z.nullable(z.string()),
  file: z.nullable(z.string()),
  source: z.enum(['factory', 'tftp', 'ftp', 'rebuilt']),
  installedAt: ms,
  offerKey: z.nullable(z.string()),
  /**
   * Set when the slot's bytes no longer matched the record at a start: md5/sha256/size then
   * describe what the slot holds now, these the image that had been verified.
   */
  mismatch: z.optional(z.object({ expectedMd5: md5, expectedSha256: z.nullable(sha256), at: ms })),
  /** signing time (s) of a verified signed image (agent/image) */
  signedAt: z.optional(z.nullable(z.int().check(z.nonnegative()))),
});

export const stagedImageSchema = z.extend(imageRecordSchema, {
  urgent: z.boolean(),
  rebootRequestedAt: z.nullable(ms),
});

export const attemptStateSchema = z.object({
  offerKey: z.nullable(z.string()),
  failures: z.int().check(z.nonnegative()),
  totalFailures: z.int().check(z.nonnegative()),
  nextAttemptAt: z.nullable(ms),
  gaveUp: z.boolean(),
  verifyFailed: z.boolean(),
  lastFailureAt: z.nullable(ms),
  lastFailureCode: z.nullable(z.string()),
});

export const configRecordSchema = z.object({
  file: z.string(),
  md5,
  size: z.int().check(z.nonnegative()),
  path: z.string(),
  fetchedAt: ms,
});

/** The offer as persisted: password already masked by the writer. */
export const maskedOfferSchema = z.extend(option43OfferSchema, { password: z.optional(z.literal('***')) });

export const historyEventSchema = z.enum([
  'factory-install',
  'rebuilt',
  'staged',
  'reboot-requested',
  'booted',
  'healthy',
  'fallback',
  'download-failed',
  'verify-failed',
  'gave-up',
  'config-fetched',
  'stopped',
  'slot-mismatch',
  'staged-discarded',
  'bootenv-recovered',
]);

export const historyEntrySchema = z.object({
  at: ms,
  event: historyEventSchema,
  slot: z.optional(slot),
  version: z.optional(z.nullable(z.string())),
  md5: z.optional(md5),
  detail: z.optional(z.string()),
});

export const agentErrorRecordSchema = z.object({ code: z.string(), message: z.string(), at: ms });

export const decisionRecordSchema = z.object({ action: z.string(), code: z.string(), reason: z.string(), at: ms });

/** How the last software upgrade ended (docsDevSwOperStatus): from the DHCP offer or an SNMP manager. */
export const upgradeOutcomeSchema = z.object({
  source: z.enum(['provisioning', 'management']),
  result: z.enum(['complete', 'failed']),
  file: z.string(),
  server: z.nullable(z.string()),
  at: ms,
});

export const platformRefSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('sim'), dir: z.string() }),
  /** the board's devices come from the config (platform.board) */
  z.object({ backend: z.literal('board') }),
]);

export const persistentStateSchema = z.object({
  schema: z.literal(1),
  running: z.nullable(imageRecordSchema),
  staged: z.nullable(stagedImageSchema),
  /** the image in the other slot that ran before `running` (the fallback), when intact */
  previous: z.nullable(imageRecordSchema),
  attempts: attemptStateSchema,
  configAttempts: attemptStateSchema,
  config: z.nullable(configRecordSchema),
  lastError: z.nullable(agentErrorRecordSchema),
  lastOffer: z.nullable(maskedOfferSchema),
  lastOfferAt: z.nullable(ms),
  lastDecision: z.nullable(decisionRecordSchema),
  history: z.array(historyEntrySchema),
  bootCount: z.int().check(z.nonnegative()),
  /** the platform the daemon last ran with (lets `reboot` work without a daemon) */
  platform: z.nullable(platformRefSchema),
  /** the last software upgrade's outcome (absent in files written before it existed) */
  upgrade: z._default(z.nullable(upgradeOutcomeSchema), null),
  /** policy.ignoreProvisioning as set over SNMP (docsDevSwAdminStatus); null: the config's */
  ignoreProvisioning: z._default(z.nullable(z.boolean()), null),
});

export type PersistentState = z.infer<typeof persistentStateSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type HistoryEvent = z.infer<typeof historyEventSchema>;
export type AgentErrorRecord = z.infer<typeof agentErrorRecordSchema>;
export type PlatformRef = z.infer<typeof platformRefSchema>;
export type UpgradeOutcome = z.infer<typeof upgradeOutcomeSchema>;

/** Upper bound of the history kept in the file (oldest dropped first). */
export const HISTORY_MAX = 200;
