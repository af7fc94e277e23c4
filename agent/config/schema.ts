/**
 * The one configuration schema (zod). Every key is documented in docs/config.md and shown
 * in config/cpe-agent.example.json. Unknown keys are errors (a typo must not silently fall
 * back to a default). Durations are in seconds in the file.
 */
import * as z from '../util/zod.ts';
import { DEFAULT_VERSION_PATTERN } from '../upgrade/version.ts';

const seconds = z.number().check(z.positive());
/** Ed25519 public key as text (agent/image/keys.ts) */
const publicKeyText = z.string().check(z.regex(/^ed25519:[A-Za-z0-9+/]{43}=?$/, 'not an Ed25519 public key (ed25519:<base64 of 32 bytes>)'));
/** a non-empty string (a path, a name) */
const nonEmpty = z.string().check(z.minLength(1));
/** an integer in lo..hi */
const intIn = (lo: number, hi: number): z.ZodMiniInt => z.int().check(z.gte(lo), z.lte(hi));
/** a non-empty string of at most `max` characters */
const text1 = (max: number): z.ZodMiniString<string> => z.string().check(z.minLength(1), z.maxLength(max));
/** a UDP port */
const port = intIn(1, 65535);

export const simPlatformSchema = z.strictObject({
  /** directory holding the slot files and the boot environment */
  dir: z.optional(nonEmpty),
  /** capacity of one slot in bytes */
  slotCapacity: z._default(z.int().check(z.positive()), 64 * 1024 * 1024),
  /** image installed into slot A on the very first start (empty slots) */
  factoryImage: z.optional(nonEmpty),
  /** version of the factory image; default: parsed from its file name */
  factoryVersion: z.optional(nonEmpty),
});

/** SNMP v3 USM user: authPriv only (SHA-1 / SHA-256 authentication, AES-128 privacy). */
export const snmpUserSchema = z.strictObject({
  name: text1(32),
  authProtocol: z._default(z.enum(['sha', 'sha256']), 'sha256'),
  /** passphrase, 8..64 characters (RFC 3414 minimum 8); a secret: never logged */
  authKey: z.string().check(z.minLength(8), z.maxLength(64)),
  privProtocol: z._default(z.enum(['aes']), 'aes'),
  privKey: z.string().check(z.minLength(8), z.maxLength(64)),
  access: z._default(z.enum(['read', 'read-write']), 'read'),
});

/** A manager that receives notifications: v2c traps (community) or v3 informs (a configured user). */
export const snmpNotifySchema = z.strictObject({
  host: z.ipv4(),
  port: z._default(port, 162),
  version: z._default(z.enum(['v2c', 'v3']), 'v2c'),
  /** v2c: the trap community (a secret) */
  community: z.optional(text1(64)),
  /** v3: name of an entry of snmp.users (its keys are used) */
  user: z.optional(nonEmpty),
  /** v3 informs: retransmissions and timeout per try */
  retries: z._default(intIn(0, 10), 3),
  timeoutSeconds: z._default(seconds, 2),
});

/** `snmp`: absent → no SNMP at all. */
export const snmpSchema = z
  .strictObject({
    /** standalone: our own agent on UDP; agentx: a subagent of a Net-SNMP `master agentx` snmpd */
    mode: z._default(z.enum(['standalone', 'agentx']), 'standalone'),
    listen: z.prefault(
      z.strictObject({
        address: z._default(z.ipv4(), '0.0.0.0'),
        port: z._default(port, 161),
      }),
      {},
    ),
    /** agentx: the master's socket, a unix path (`/var/agentx/master`) or `host:port` */
    agentx: z.prefault(z.strictObject({ master: z._default(nonEmpty, '/var/agentx/master') }), {}),
    /** answer SNMPv1 requests (with the same communities) */
    v1: z._default(z.boolean(), false),
    /** v1/v2c communities; no write access without `write` (both secrets: never logged) */
    community: z.prefault(z.strictObject({ read: z.optional(text1(64)), write: z.optional(text1(64)) }), {}),
    users: z._default(z.array(snmpUserSchema).check(z.maxLength(16)), []),
    /** managers that receive notifications (image staged, upgrade failed, rebooting, booted, rollback) */
    notify: z._default(z.array(snmpNotifySchema).check(z.maxLength(8)), []),
    /** SNMPv3 engine ID (hex, 5..32 bytes); default: derived from the enterprise number and sysName */
    engineId: z.optional(z.string().check(z.regex(/^([0-9a-fA-F]{2}){5,32}$/, 'hex, 5..32 bytes'))),
    /** our enterprise subtree; 32473 is the IANA number reserved for documentation (RFC 5612) */
    enterpriseOid: z._default(z.string().check(z.regex(/^1\.3\.6\.1\.4\.1\.\d+$/, 'an OID under 1.3.6.1.4.1')), '1.3.6.1.4.1.32473'),
    sysContact: z._default(z.string().check(z.maxLength(255)), ''),
    sysName: z.optional(z.string().check(z.maxLength(255))),
    sysLocation: z._default(z.string().check(z.maxLength(255)), ''),
  })
  .check(
    z.superRefine((v, ctx) => {
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
    }),
  );

export type SnmpConfig = z.infer<typeof snmpSchema>;

/** A board with U-Boot and A/B partitions (platform/block, platform/uboot, platform/reboot). */
export const boardPlatformSchema = z.strictObject({
  /** the two slot partitions (raw images are written to the inactive one) */
  slots: z.prefault(
    z.strictObject({
      A: z._default(nonEmpty, '/dev/vda2'),
      B: z._default(nonEmpty, '/dev/vda3'),
    }),
    {},
  ),
  /** the U-Boot environment: one file/device per copy (two = redundant), like fw_env.config */
  env: z.prefault(
    z.strictObject({
      copies: z._default(
        z.array(z.strictObject({ path: nonEmpty, offset: z._default(z.int().check(z.nonnegative()), 0) })).check(z.minLength(1), z.maxLength(2)),
        [
          { path: '/boot/uboot.env', offset: 0 },
          { path: '/boot/uboot-redund.env', offset: 0 },
        ],
      ),
      size: z._default(z.int().check(z.gte(16)), 0x4000),
    }),
    {},
  ),
  /** trial boots before the bootloader falls back (written as `bootlimit` when missing; 1..8: scripts/qemu/boot.cmd counts in hex) */
  bootlimit: z._default(intIn(1, 8), 3),
  /** kernel command line naming the running slot (`boot_slot=A|B`) */
  cmdline: z._default(nonEmpty, '/proc/cmdline'),
  reboot: z.prefault(
    z.strictObject({
      /** `sysrq`: sync, then 'b' to /proc/sysrq-trigger; `command`: sync, then run `command` */
      method: z._default(z.enum(['sysrq', 'command']), 'sysrq'),
      command: z._default(z.array(nonEmpty).check(z.minLength(1)), ['reboot', '-f']),
    }),
    {},
  ),
});

export const configSchema = z.strictObject({
  /** WAN interface the DHCP client runs on */
  iface: z._default(z.string().check(z.minLength(1), z.maxLength(15), z.regex(/^[^\s/]+$/, 'not an interface name')), 'wan0'),
  /** option 60 vendor class identifier; also selects the option 43 profile */
  vendorClass: z._default(text1(255), 'FS-0900E'),
  /** persistent state (state.json, control socket, fetched config files) */
  stateDir: z._default(nonEmpty, '/var/lib/cpe-agent'),
  log: z.prefault(
    z.strictObject({
      format: z._default(z.enum(['text', 'json']), 'text'),
      level: z._default(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']), 'info'),
      /** progress log line interval when stderr is not a TTY */
      progressIntervalSeconds: z._default(seconds, 5),
    }),
    {},
  ),
  platform: z.prefault(
    z.strictObject({
      /** `sim`: slot files in a directory; `board`: partitions + U-Boot environment */
      backend: z._default(z.enum(['sim', 'board']), 'sim'),
      sim: z.prefault(simPlatformSchema, {}),
      board: z.prefault(boardPlatformSchema, {}),
    }),
    {},
  ),
  net: z.prefault(
    z.strictObject({
      /** `ip`: configure the interface with iproute2; `dry-run`: log only */
      backend: z._default(z.enum(['ip', 'dry-run']), 'ip'),
      /** where the `ip` backend writes the DNS servers of the lease; default with the sim platform: <stateDir>/resolv.conf */
      resolvConf: z._default(nonEmpty, '/etc/resolv.conf'),
    }),
    {},
  ),
  dhcp: z.prefault(
    z.strictObject({
      /** ARP-probe the offered address before using it (RFC 5227) */
      arpCheck: z._default(z.boolean(), true),
      /** `run --once`: give up when no lease is bound within this time */
      leaseTimeoutSeconds: z._default(seconds, 120),
    }),
    {},
  ),
  policy: z.prefault(
    z
      .strictObject({
        allowDowngrade: z._default(z.boolean(), false),
        unparseableVersion: z._default(z.enum(['install', 'refuse']), 'install'),
        sameVersion: z._default(z.enum(['install', 'refuse']), 'install'),
        ignoreProvisioning: z._default(z.boolean(), false),
        versionPattern: z._default(nonEmpty, DEFAULT_VERSION_PATTERN),
        /** fetch the configuration file of the offer (stored in <stateDir>/config/) */
        fetchConfig: z._default(z.boolean(), true),
        /** argv run with the fetched configuration file's path appended (omitted: store only) */
        configApplyCommand: z.optional(z.array(nonEmpty).check(z.minLength(1))),
        /** signed images (agent/image): off = not checked, warn = checked and logged, require = only verified images are activated */
        signature: z._default(z.enum(['off', 'warn', 'require']), 'off'),
        /** trusted public keys, `ed25519:<base64>` as `cpe-agent image keygen` writes them */
        trustedKeys: z.prefault(
          z.strictObject({
            manufacturer: z._default(z.array(publicKeyText), []),
            /** non-empty: a co-signature by one of these is required too (DOCSIS CVC model) */
            coSigner: z._default(z.array(publicKeyText), []),
          }),
          {},
        ),
      })
      .check(
        z.refine((p) => p.signature === 'off' || p.trustedKeys.manufacturer.length > 0, {
          message: 'policy.signature warn/require needs at least one key in policy.trustedKeys.manufacturer',
          path: ['trustedKeys', 'manufacturer'],
        }),
      ),
    {},
  ),
  retry: z.prefault(
    z.strictObject({
      maxAttempts: z._default(intIn(1, 100), 3),
      baseSeconds: z._default(seconds, 30),
      maxSeconds: z._default(seconds, 600),
      jitter: z._default(z.number().check(z.gte(0), z.lte(1)), 0.5),
    }),
    {},
  ),
  tftp: z.prefault(
    z.strictObject({
      /** RFC 2348 block size requested (the server may answer smaller) */
      blksize: z._default(intIn(8, 65464), 1468),
      /** RFC 7440 window asked for; 1 = lockstep (see agent/transfer/tftp-options.ts) */
      windowsize: z._default(intIn(1, 64), 1),
      /** retransmission timeout per packet */
      timeoutSeconds: z._default(seconds, 2),
      retries: z._default(intIn(0, 50), 5),
    }),
    {},
  ),
  ftp: z.prefault(
    z.strictObject({
      timeoutSeconds: z._default(seconds, 30),
    }),
    {},
  ),
  health: z.prefault(
    z.strictObject({
      /** a trial boot that has no DHCP lease after this long reboots (the boot env falls back) */
      timeoutSeconds: z._default(seconds, 300),
    }),
    {},
  ),
  /** SNMP management (agent/snmp); absent: no SNMP */
  snmp: z.optional(snmpSchema),
});

export type AgentConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
