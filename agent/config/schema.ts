/**
 * The one configuration schema (zod). Every key is documented in docs/config.md and shown
 * in config/cpe-agent.example.json. Unknown keys are errors (a typo must not silently fall
 * back to a default). Durations are in seconds in the file.
 */
import { z } from 'zod';
import { DEFAULT_VERSION_PATTERN } from '../upgrade/version.ts';

const seconds = z.number().positive();
/** Ed25519 public key as text (agent/image/keys.ts) */
const publicKeyText = z.string().regex(/^ed25519:[A-Za-z0-9+/]{43}=?$/, 'not an Ed25519 public key (ed25519:<base64 of 32 bytes>)');

export const simPlatformSchema = z.strictObject({
  /** directory holding the slot files and the boot environment */
  dir: z.string().min(1).optional(),
  /** capacity of one slot in bytes */
  slotCapacity: z.number().int().positive().default(64 * 1024 * 1024),
  /** image installed into slot A on the very first start (empty slots) */
  factoryImage: z.string().min(1).optional(),
  /** version of the factory image; default: parsed from its file name */
  factoryVersion: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  /** WAN interface the DHCP client runs on */
  iface: z.string().min(1).max(15).regex(/^[^\s/]+$/, 'not an interface name').default('wan0'),
  /** option 60 vendor class identifier; also selects the option 43 profile */
  vendorClass: z.string().min(1).max(255).default('FS-0900E'),
  /** persistent state (state.json, control socket, fetched config files) */
  stateDir: z.string().min(1).default('/var/lib/cpe-agent'),
  log: z
    .strictObject({
      format: z.enum(['text', 'json']).default('text'),
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
      /** progress log line interval when stderr is not a TTY */
      progressIntervalSeconds: seconds.default(5),
    })
    .prefault({}),
  platform: z
    .strictObject({
      backend: z.enum(['sim']).default('sim'),
      sim: simPlatformSchema.prefault({}),
    })
    .prefault({}),
  net: z
    .strictObject({
      /** `ip`: configure the interface with iproute2; `dry-run`: log only */
      backend: z.enum(['ip', 'dry-run']).default('ip'),
      /** where the `ip` backend writes the DNS servers of the lease; default with the sim platform: <stateDir>/resolv.conf */
      resolvConf: z.string().min(1).default('/etc/resolv.conf'),
    })
    .prefault({}),
  dhcp: z
    .strictObject({
      /** ARP-probe the offered address before using it (RFC 5227) */
      arpCheck: z.boolean().default(true),
      /** `run --once`: give up when no lease is bound within this time */
      leaseTimeoutSeconds: seconds.default(120),
    })
    .prefault({}),
  policy: z
    .strictObject({
      allowDowngrade: z.boolean().default(false),
      unparseableVersion: z.enum(['install', 'refuse']).default('install'),
      sameVersion: z.enum(['install', 'refuse']).default('install'),
      ignoreProvisioning: z.boolean().default(false),
      versionPattern: z.string().min(1).default(DEFAULT_VERSION_PATTERN),
      /** fetch the configuration file of the offer (stored in <stateDir>/config/) */
      fetchConfig: z.boolean().default(true),
      /** argv run with the fetched configuration file's path appended (omitted: store only) */
      configApplyCommand: z.array(z.string().min(1)).min(1).optional(),
      /** signed images (agent/image): off = not checked, warn = checked and logged, require = only verified images are activated */
      signature: z.enum(['off', 'warn', 'require']).default('off'),
      /** trusted public keys, `ed25519:<base64>` as `cpe-agent image keygen` writes them */
      trustedKeys: z
        .strictObject({
          manufacturer: z.array(publicKeyText).default([]),
          /** non-empty: a co-signature by one of these is required too (DOCSIS CVC model) */
          coSigner: z.array(publicKeyText).default([]),
        })
        .prefault({}),
    })
    .refine((p) => p.signature === 'off' || p.trustedKeys.manufacturer.length > 0, {
      message: 'policy.signature warn/require needs at least one key in policy.trustedKeys.manufacturer',
      path: ['trustedKeys', 'manufacturer'],
    })
    .prefault({}),
  retry: z
    .strictObject({
      maxAttempts: z.number().int().min(1).max(100).default(3),
      baseSeconds: seconds.default(30),
      maxSeconds: seconds.default(600),
      jitter: z.number().min(0).max(1).default(0.5),
    })
    .prefault({}),
  tftp: z
    .strictObject({
      /** RFC 2348 block size requested (the server may answer smaller) */
      blksize: z.number().int().min(8).max(65464).default(1468),
      /** RFC 7440 window asked for; 1 = lockstep (see agent/transfer/tftp-options.ts) */
      windowsize: z.number().int().min(1).max(64).default(1),
      /** retransmission timeout per packet */
      timeoutSeconds: seconds.default(2),
      retries: z.number().int().min(0).max(50).default(5),
    })
    .prefault({}),
  ftp: z
    .strictObject({
      timeoutSeconds: seconds.default(30),
    })
    .prefault({}),
  health: z
    .strictObject({
      /** a trial boot that has no DHCP lease after this long reboots (the boot env falls back) */
      timeoutSeconds: seconds.default(300),
    })
    .prefault({}),
});

export type AgentConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
