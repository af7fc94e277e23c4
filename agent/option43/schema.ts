/**
 * zod schema of an Option43Offer as it is persisted (the remembered lease, the agent state).
 * One definition; the state file stores it with the password already masked.
 */
import * as z from '../util/zod.ts';

export const option43OfferSchema = z.object({
  protocol: z.optional(z.enum(['tftp', 'ftp'])),
  server: z.optional(z.string()),
  user: z.optional(z.string()),
  password: z.optional(z.string()),
  softwareFile: z.optional(z.string()),
  softwareMd5: z.optional(z.string()),
  configFile: z.optional(z.string()),
  configMd5: z.optional(z.string()),
  flags: z.optional(z.int()),
  urgent: z.optional(z.boolean()),
  unknown: z.array(z.object({ code: z.int(), hex: z.string() })),
});
