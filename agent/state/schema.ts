/**
 * The persistent state file (`<stateDir>/state.json`): what the agent must never lose
 * across restarts and reboots. Validated with zod on load; anything that does not match is
 * a corrupt file (kept aside, state rebuilt from the slots).
 */
import * as z from 'zod';
import { option43OfferSchema } from '../option43/schema.ts';

const slot = z.enum(['A', 'B']);
const md5 = z.string().regex(/^[0-9a-f]{32}$/);
const ms = z.number().int().nonnegative();

export const imageRecordSchema = z.object({
  slot,
  md5,
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  size: z.number().int().nonnegative(),
  version: z.string().nullable(),
  file: z.string().nullable(),
  source: z.enum(['factory', 'tftp', 'ftp', 'rebuilt']),
  installedAt: ms,
  offerKey: z.string().nullable(),
  /**
   * Set when the slot's bytes no longer matched the record at a start: md5/sha256/size then
   * describe what the slot holds now, these the image that had been verified.
   */
  mismatch: z.object({ expectedMd5: md5, expectedSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(), at: ms }).optional(),
  /** signing time (s) of a verified signed image (agent/image) */
  signedAt: z.number().int().nonnegative().nullable().optional(),
});

export const stagedImageSchema = imageRecordSchema.extend({
  urgent: z.boolean(),
  rebootRequestedAt: ms.nullable(),
});

export const attemptStateSchema = z.object({
  offerKey: z.string().nullable(),
  failures: z.number().int().nonnegative(),
  totalFailures: z.number().int().nonnegative(),
  nextAttemptAt: ms.nullable(),
  gaveUp: z.boolean(),
  verifyFailed: z.boolean(),
  lastFailureAt: ms.nullable(),
  lastFailureCode: z.string().nullable(),
});

export const configRecordSchema = z.object({
  file: z.string(),
  md5,
  size: z.number().int().nonnegative(),
  path: z.string(),
  fetchedAt: ms,
});

/** The offer as persisted: password already masked by the writer. */
export const maskedOfferSchema = option43OfferSchema.extend({ password: z.literal('***').optional() });

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
  slot: slot.optional(),
  version: z.string().nullable().optional(),
  md5: md5.optional(),
  detail: z.string().optional(),
});

export const agentErrorRecordSchema = z.object({ code: z.string(), message: z.string(), at: ms });

export const decisionRecordSchema = z.object({ action: z.string(), code: z.string(), reason: z.string(), at: ms });

/** How the last software upgrade ended (docsDevSwOperStatus): from the DHCP offer or an SNMP manager. */
export const upgradeOutcomeSchema = z.object({
  source: z.enum(['provisioning', 'management']),
  result: z.enum(['complete', 'failed']),
  file: z.string(),
  server: z.string().nullable(),
  at: ms,
});

export const platformRefSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('sim'), dir: z.string() }),
  /** the board's devices come from the config (platform.board) */
  z.object({ backend: z.literal('board') }),
]);

export const persistentStateSchema = z.object({
  schema: z.literal(1),
  running: imageRecordSchema.nullable(),
  staged: stagedImageSchema.nullable(),
  /** the image in the other slot that ran before `running` (the fallback), when intact */
  previous: imageRecordSchema.nullable(),
  attempts: attemptStateSchema,
  configAttempts: attemptStateSchema,
  config: configRecordSchema.nullable(),
  lastError: agentErrorRecordSchema.nullable(),
  lastOffer: maskedOfferSchema.nullable(),
  lastOfferAt: ms.nullable(),
  lastDecision: decisionRecordSchema.nullable(),
  history: z.array(historyEntrySchema),
  bootCount: z.number().int().nonnegative(),
  /** the platform the daemon last ran with (lets `reboot` work without a daemon) */
  platform: platformRefSchema.nullable(),
  /** the last software upgrade's outcome (absent in files written before it existed) */
  upgrade: upgradeOutcomeSchema.nullable().default(null),
  /** policy.ignoreProvisioning as set over SNMP (docsDevSwAdminStatus); null: the config's */
  ignoreProvisioning: z.boolean().nullable().default(null),
});

export type PersistentState = z.infer<typeof persistentStateSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type HistoryEvent = z.infer<typeof historyEventSchema>;
export type AgentErrorRecord = z.infer<typeof agentErrorRecordSchema>;
export type PlatformRef = z.infer<typeof platformRefSchema>;
export type UpgradeOutcome = z.infer<typeof upgradeOutcomeSchema>;

/** Upper bound of the history kept in the file (oldest dropped first). */
export const HISTORY_MAX = 200;
