/**
 * zod schema of an Option43Offer as it is persisted (the remembered lease, the agent state).
 * One definition; the state file stores it with the password already masked.
 */
import * as z from 'zod';

export const option43OfferSchema = z.object({
  protocol: z.enum(['tftp', 'ftp']).optional(),
  server: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  softwareFile: z.string().optional(),
  softwareMd5: z.string().optional(),
  configFile: z.string().optional(),
  configMd5: z.string().optional(),
  flags: z.number().int().optional(),
  urgent: z.boolean().optional(),
  unknown: z.array(z.object({ code: z.number().int(), hex: z.string() })),
});
