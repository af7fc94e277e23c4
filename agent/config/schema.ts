/**
 * The one configuration schema (zod). Every key is documented in docs/config.md and shown
 * in config/cpe-agent.example.json. Unknown keys are errors (a typo must not silently fall
 * back to a default). Durations are in seconds in the file.
 */
import * as z from 'zod';
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

/** SNMP v3 USM user: authPriv only (SHA-1 / SHA-256 authentication, AES-128 privacy). */
export const snmpUserSchema = z.strictObject({
  name: z.string().min(1).max(32),
  authProtocol: z.enum(['sha', 'sha256']).default('sha256'),
  /** passphrase, 8..64 characters (RFC 3414 minimum 8); a secret: never logged */
  authKey: z.string().min(8).max(64),
  privProtocol: z.enum(['aes']).default('aes'),
  privKey: z.string().min(8).max(64),
  access: z.enum(['read', 'read-write']).default('read'),
});

/** A manager that receives notifications: v2c traps (community) or v3 informs (a configured user). */
export const snmpNotifySchema = z.strictObject({
  host: z.ipv4(),
  port: z.number().int().min(1).max(65535).default(162),
  version: z.enum(['v2c', 'v3']).default('v2c'),
  /** v2c: the trap community (a secret) */
  community: z.string().min(1).max(64).optional(),
  /** v3: name of an entry of snmp.users (its keys are used) */
  user: z.string().min(1).optional(),
  /** v3 informs: retransmissions and timeout per try */
  retries: z.number().int().min(0).max(10).default(3),
  timeoutSeconds: seconds.default(2),
});

/** `snmp`: absent → no SNMP at all. */
export const snmpSchema = z
  .strictObject({
    /** standalone: our own agent on UDP; agentx: a subagent of a Net-SNMP `master agentx` snmpd */
    mode: z.enum(['standalone', 'agentx']).default('standalone'),
    listen: z
      .strictObject({
        address: z.ipv4().default('0.0.0.0'),
        port: z.number().int().min(1).max(65535).default(161),
      })
      .prefault({}),
    /** agentx: the master's socket, a unix path (`/var/agentx/master`) or `host:port` */
    agentx: z.strictObject({ master: z.string().min(1).default('/var/agentx/master') }).prefault({}),
    /** answer SNMPv1 requests (with the same communities) */
    v1: z.boolean().default(false),
    /** v1/v2c communities; no write access without `write` (both secrets: never logged) */
    community: z
      .strictObject({ read: z.string().min(1).max(64).optional(), write: z.string().min(1).max(64).optional() })
      .prefault({}),
    users: z.array(snmpUserSchema).max(16).default([]),
    /** managers that receive notifications (image staged, upgrade failed, rebooting, booted, rollback) */
    notify: z.array(snmpNotifySchema).max(8).default([]),
    /** SNMPv3 engine ID (hex, 5..32 bytes); default: derived from the enterprise number and sysName */
    engineId: z.string().regex(/^([0-9a-fA-F]{2}){5,32}$/, 'hex, 5..32 bytes').optional(),
    /** our enterprise subtree; 32473 is the IANA number reserved for documentation (RFC 5612) */
    enterpriseOid: z.string().regex(/^1\.3\.6\.1\.4\.1\.\d+$/, 'an OID under 1.3.6.1.4.1').default('1.3.6.1.4.1.32473'),
    sysContact: z.string().max(255).default(''),
    sysName: z.string().max(255).optional(),
    sysLocation: z.string().max(255).default(''),
  })
  .superRefine((v, ctx) => {
    if (v.mode === 'standalone' && v.community.read === undefined && v.community.write === undefined && v.users.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'snmp needs a community (read/write) or a v3 user', path: ['community'] });
    }
    if (v.community.read !== undefined && v.community.read === v.community.write) {
      ctx.addIssue({ code: 'custom', message: 'read and write communities must differ', path: ['community', 'write'] });
    }
    const names = new Set<string>();
    v.users.forEach((u, i) => {
      if (names.has(u.name)) ctx.addIssue({ code: 'custom', message: `duplicate user ${u.name}`, path: ['users', i, 'name'] });
      names.add(u.name);
    });
    v.notify.forEach((n, i) => {
      if (n.version === 'v2c' && n.community === undefined) ctx.addIssue({ code: 'custom', message: 'a v2c manager needs a community', path: ['notify', i, 'community'] });
      if (n.version === 'v3' && (n.user === undefined || !names.has(n.user))) ctx.addIssue({ code: 'custom', message: 'a v3 manager needs the name of an entry of snmp.users', path: ['notify', i, 'user'] });
    });
  });

export type SnmpConfig = z.infer<typeof snmpSchema>;

/** A board with U-Boot and A/B partitions (platform/block, platform/uboot, platform/reboot). */
export const boardPlatformSchema = z.strictObject({
  /** the two slot partitions (raw images are written to the inactive one) */
  slots: z
    .strictObject({
      A: z.string().min(1).default('/dev/vda2'),
      B: z.string().min(1).default('/dev/vda3'),
    })
    .prefault({}),
  /** the U-Boot environment: one file/device per copy (two = redundant), like fw_env.config */
  env: z
    .strictObject({
      copies: z
        .array(z.strictObject({ path: z.string().min(1), offset: z.number().int().nonnegative().default(0) }))
        .min(1)
        .max(2)
        .default([
          { path: '/boot/uboot.env', offset: 0 },
          { path: '/boot/uboot-redund.env', offset: 0 },
        ]),
      size: z.number().int().min(16).default(0x4000),
    })
    .prefault({}),
  /** trial boots before the bootloader falls back (written as `bootlimit` when missing; 1..8: scripts/qemu/boot.cmd counts in hex) */
  bootlimit: z.number().int().min(1).max(8).default(3),
  /** kernel command line naming the running slot (`boot_slot=A|B`) */
  cmdline: z.string().min(1).default('/proc/cmdline'),
  reboot: z
    .strictObject({
      /** `sysrq`: sync, then 'b' to /proc/sysrq-trigger; `command`: sync, then run `command` */
      method: z.enum(['sysrq', 'command']).default('sysrq'),
      command: z.array(z.string().min(1)).min(1).default(['reboot', '-f']),
    })
    .prefault({}),
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
      /** `sim`: slot files in a directory; `board`: partitions + U-Boot environment */
      backend: z.enum(['sim', 'board']).default('sim'),
      sim: simPlatformSchema.prefault({}),
      board: boardPlatformSchema.prefault({}),
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
  /** SNMP management (agent/snmp); absent: no SNMP */
  snmp: snmpSchema.optional(),
});

export type AgentConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
