/**
 * `cpe-agent image` — the ISP's tools for signed firmware images (format: agent/image/format.ts):
 *   image keygen --out NAME                      NAME.key (PKCS#8 PEM, mode 0600) + NAME.pub (ed25519:<base64>)
 *   image sign PAYLOAD --key K.key [--cosign C.key] --fw-version V --model VC… [--min-version V]
 *              [--signed-at ISO] --out FILE [--dhcpd SERVER [--protocol tftp|ftp] [--user U] [--password P] [--urgent]]
 *                                                 payload + trailer → FILE; prints its MD5 (option 43 sub-option 6),
 *                                                 with --dhcpd the dhcpd.conf class blocks that offer it
 *   image verify FILE --key PUB… [--cosigner PUB…] [--model VC] [--running-version V] [--allow-downgrade] [--json]
 *                                                 exit 0 verified, 1 refused (reason code printed)
 *   image inspect FILE [--json]                   metadata and signer key ids without checking them; exit 1 when unsigned
 * Bad input (unreadable file, bad key, bad flag) throws AgentError: exit 2.
 */
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { appendFile, chmod, copyFile, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { AgentError } from '../../errors.ts';
import { decodeTrailer, MAX_TRAILER, type ImageMetadata, type SignerRole } from '../../image/format.ts';
import { generateKeyPair, parsePrivateKey, parsePublicKey, type PrivateKey, type PublicKey } from '../../image/keys.ts';
import { buildTrailer } from '../../image/sign.ts';
import { verifyImage } from '../../image/verify.ts';
import { renderIscClass, renderIscOptionSpace } from '../../option43/isc.ts';
import { profileForClass } from '../../option43/registry.ts';
import type { Option43Offer } from '../../option43/types.ts';

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new AgentError('CLI_FILE', `cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function privateKey(path: string): Promise<PrivateKey> {
  const k = parsePrivateKey(await readText(path, 'private key'));
  return k;
}

/** A public key: `ed25519:…` text or a file holding it. */
async function publicKey(arg: string): Promise<PublicKey> {
  return parsePublicKey(arg.startsWith('ed25519:') ? arg : await readText(arg, 'public key'));
}

/** The last MAX_TRAILER bytes of a file and its length. */
async function tailOf(path: string): Promise<{ tail: Uint8Array; size: number }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new AgentError('CLI_FILE', `cannot read image ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const size = (await fh.stat()).size;
    const n = Math.min(size, MAX_TRAILER);
    const tail = new Uint8Array(n);
    await fh.read(tail, 0, n, size - n);
    return { tail, size };
  } finally {
    await fh.close();
  }
}

/** MD5 and SHA-256 of the whole file, and SHA-256 of its first `prefix` bytes (one pass). */
async function digests(path: string, prefix: number | null): Promise<{ md5: string; sha256: string; prefixSha256: string | null }> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let off = 0;
  let prefixSha256: string | null = prefix === 0 ? sha.copy().digest('hex') : null;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    const end = off + chunk.length;
    if (prefix !== null && prefix > off && prefix <= end) {
      sha.update(chunk.subarray(0, prefix - off));
      prefixSha256 = sha.copy().digest('hex');
      sha.update(chunk.subarray(prefix - off));
    } else sha.update(chunk);
    md5.update(chunk);
    off = end;
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex'), prefixSha256 };
}

function metadataLines(m: ImageMetadata, signers: { role: SignerRole; keyId: string }[]): string[] {
  return [
    `version      ${m.version}`,
    `models       ${m.models.join(', ')}`,
    `signedAt     ${new Date(m.signedAt * 1000).toISOString()}`,
    ...(m.minVersion !== undefined ? [`minVersion   ${m.minVersion}`] : []),
    `payload      ${m.payloadLength} bytes, sha256 ${m.payloadSha256}`,
    ...signers.map((s) => `signature    ${s.role} key ${s.keyId}`),
  ];
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function registerImage(program: Command): void {
  const image = program.command('image').description('signed firmware images: keygen, sign, verify, inspect');

  image
    .command('keygen')
    .description('new Ed25519 key pair: NAME.key (private, 0600) and NAME.pub (ed25519:<base64>)')
    .requiredOption('--out <name>', 'path prefix of the two files')
    .option('--force', 'overwrite existing files')
    .action(async (o: { out: string; force?: boolean }) => {
      const g = generateKeyPair();
      const flag = o.force ? 'w' : 'wx';
      let wrotePub = false;
      let wroteKey = false;
      try {
        // The public half first: an existing NAME.pub stops us before a private key is written.
        await writeFile(`${o.out}.pub`, `${g.publicText}\n`, { mode: 0o644, flag });
        wrotePub = true;
        await writeFile(`${o.out}.key`, g.privatePem, { mode: 0o600, flag });
        wroteKey = true;
        await chmod(`${o.out}.key`, 0o600);
      } catch (e) {
        // Never leave half a pair behind (and never remove a file this run did not write).
        if (wrotePub && !wroteKey) await rm(`${o.out}.pub`, { force: true }).catch(() => undefined);
        throw new AgentError('CLI_FILE', `cannot write the key pair ${o.out}.key/.pub: ${e instanceof Error ? e.message : String(e)}`);
      }
      process.stdout.write(`private key  ${o.out}.key (0600)\npublic key   ${o.out}.pub  ${g.publicText}\nkey id       ${g.id}\n`);
    });

  image
    .command('sign')
    .description('append a signed trailer to PAYLOAD; prints the MD5 to put into option 43')
    .argument('<payload>', 'firmware payload (what goes into the slot)')
    .requiredOption('--key <file>', 'manufacturer private key (PEM)')
    .option('--cosign <file>', 'operator co-signer private key (PEM)')
    .requiredOption('--fw-version <v>', 'firmware version, dotted (1.3.0)')
    .requiredOption('--model <vc>', 'compatible model / option 60 vendor class (repeat for more)', collect)
    .option('--min-version <v>', 'oldest running version this image may replace')
    .option('--signed-at <iso>', 'signing time (default: now)')
    .requiredOption('--out <file>', 'signed image to write')
    .option('--dhcpd <server>', 'also print the dhcpd.conf class blocks offering the image from SERVER')
    .option('--protocol <p>', 'with --dhcpd: tftp or ftp', 'tftp')
    .option('--user <u>', 'with --dhcpd: FTP user')
    .option('--password <p>', 'with --dhcpd: FTP password')
    .option('--urgent', 'with --dhcpd: urgent flag (reboot at once)')
    .option('--json', 'one JSON object')
    .action(async (payload: string, o: { key: string; cosign?: string; fwVersion: string; model: string[]; minVersion?: string; signedAt?: string; out: string; dhcpd?: string; protocol: string; user?: string; password?: string; urgent?: boolean; json?: boolean }) => {
      const signedAtMs = o.signedAt ? Date.parse(o.signedAt) : Date.now();
      if (!Number.isFinite(signedAtMs)) throw new AgentError('CLI_BAD_ARGUMENT', `--signed-at ${JSON.stringify(o.signedAt)} is not a date`);
      if (o.protocol !== 'tftp' && o.protocol !== 'ftp') throw new AgentError('CLI_BAD_ARGUMENT', `--protocol must be tftp or ftp, not ${JSON.stringify(o.protocol)}`);
      if (resolve(o.out) === resolve(payload)) throw new AgentError('CLI_BAD_ARGUMENT', '--out must not be the payload file');
      const signers: { role: SignerRole; key: PrivateKey }[] = [{ role: 'manufacturer', key: await privateKey(o.key) }];
      if (o.cosign) signers.push({ role: 'co-signer', key: await privateKey(o.cosign) });
      const size = await stat(payload).then(
        (s) => s.size,
        (e: unknown) => {
          throw new AgentError('CLI_FILE', `cannot read payload ${payload}: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
      const pd = await digests(payload, null);
      const { trailer, metadata } = buildTrailer({
        payloadLength: size,
        payloadSha256: pd.sha256,
        version: o.fwVersion,
        models: o.model,
        signedAt: Math.floor(signedAtMs / 1000),
        ...(o.minVersion ? { minVersion: o.minVersion } : {}),
        signers,
      });
      try {
        await copyFile(payload, o.out);
        await appendFile(o.out, trailer);
      } catch (e) {
        await rm(o.out, { force: true });
        throw new AgentError('CLI_FILE', `cannot write ${o.out}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const whole = await digests(o.out, null);
      const sigs = signers.map((s) => ({ role: s.role, keyId: s.key.id }));
      const file = basename(o.out);
      let dhcpd = '';
      if (o.dhcpd) {
        const spaces = new Set<string>();
        for (const vc of o.model) {
          const p = profileForClass(vc);
          if (!spaces.has(p.name)) dhcpd += renderIscOptionSpace(p);
          spaces.add(p.name);
        }
        for (const vc of o.model) {
          const offer: Option43Offer = {
            protocol: o.protocol === 'ftp' ? 'ftp' : 'tftp',
            server: o.dhcpd,
            ...(o.user !== undefined ? { user: o.user } : {}),
            ...(o.password !== undefined ? { password: o.password } : {}),
            softwareFile: file,
            softwareMd5: whole.md5,
            flags: o.urgent ? 1 : 0,
            unknown: [],
          };
          dhcpd += renderIscClass(vc, offer, profileForClass(vc));
        }
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ file: o.out, size: size + trailer.length, trailerLength: trailer.length, md5: whole.md5, sha256: whole.sha256, metadata, signers: sigs, ...(o.dhcpd ? { dhcpd } : {}) }) + '\n');
        return;
      }
      const lines = [`signed       ${o.out} (payload ${size} bytes + trailer ${trailer.length} bytes)`, ...metadataLines(metadata, sigs), `md5          ${whole.md5}   ← option 43 sub-option 6 (whole file)`, `sha256       ${whole.sha256}`];
      process.stdout.write(lines.join('\n') + '\n' + (dhcpd ? `\n# dhcpd.conf: option space (global, once) and one class per model\n${dhcpd}` : ''));
    });

  image
    .command('verify')
    .description('check a signed image against trusted keys; exit 0 verified, 1 refused')
    .argument('<file>', 'signed image')
    .requiredOption('--key <pub>', 'trusted manufacturer public key: file or ed25519:… (repeat for more)', collect)
    .option('--cosigner <pub>', 'required co-signer public key (repeat for more)', collect)
    .option('--model <vc>', 'the CPE model / vendor class to check against (default: any listed model)')
    .option('--running-version <v>', 'anti-rollback check against this running version')
    .option('--running-signed-at <iso>', 'anti-rollback check against this signing time')
    .option('--allow-downgrade', 'waive the rollback checks')
    .option('--json', 'one JSON object')
    .action(async (path: string, o: { key: string[]; cosigner?: string[]; model?: string; runningVersion?: string; runningSignedAt?: string; allowDowngrade?: boolean; json?: boolean }) => {
      const keys = { manufacturer: await Promise.all(o.key.map(publicKey)), coSigner: await Promise.all((o.cosigner ?? []).map(publicKey)) };
      const { tail, size } = await tailOf(path);
      const d = decodeTrailer(tail, size);
      const model = o.model ?? (d.ok ? (d.trailer.metadata.models[0] ?? '') : '');
      const runningSignedAt = o.runningSignedAt ? Math.floor(Date.parse(o.runningSignedAt) / 1000) : null;
      if (runningSignedAt !== null && !Number.isFinite(runningSignedAt)) throw new AgentError('CLI_BAD_ARGUMENT', `--running-signed-at ${JSON.stringify(o.runningSignedAt)} is not a date`);
      const dg = await digests(path, d.ok ? d.trailer.payloadLength : null);
      const v = verifyImage({ tail, fileLength: size, payloadSha256: dg.prefixSha256, keys, policy: { model, runningVersion: o.runningVersion ?? null, runningSignedAt, allowDowngrade: o.allowDowngrade === true } });
      if (o.json) {
        process.stdout.write(JSON.stringify(v.ok ? { ok: true, md5: dg.md5, metadata: v.metadata, signers: v.signers } : { ok: false, md5: dg.md5, reason: v.reason, message: v.message, metadata: v.metadata ?? null }) + '\n');
      } else if (v.ok) {
        process.stdout.write([`verified     ${path}`, ...metadataLines(v.metadata, v.signers), `md5          ${dg.md5}`].join('\n') + '\n');
      } else {
        process.stdout.write([`refused      ${path}: IMAGE_${v.reason}: ${v.message}`, ...(v.metadata ? metadataLines(v.metadata, []) : []), `md5          ${dg.md5}`].join('\n') + '\n');
      }
      process.exitCode = v.ok ? 0 : 1;
    });

  image
    .command('inspect')
    .description('show the trailer (metadata, signer key ids) without checking signatures; exit 1 when there is none')
    .argument('<file>', 'image')
    .option('--json', 'one JSON object')
    .action(async (path: string, o: { json?: boolean }) => {
      const { tail, size } = await tailOf(path);
      const d = decodeTrailer(tail, size);
      if (!d.ok) {
        process.stdout.write(o.json ? JSON.stringify({ ok: false, size, reason: d.reason, message: d.message }) + '\n' : `${path}: ${size} bytes, IMAGE_${d.reason}: ${d.message}\n`);
        process.exitCode = 1;
        return;
      }
      const t = d.trailer;
      const sigs = t.signatures.map((s) => ({ role: s.role, keyId: s.keyId }));
      if (o.json) {
        process.stdout.write(JSON.stringify({ ok: true, size, trailerLength: t.trailerLength, metadata: t.metadata, signatures: sigs }) + '\n');
        return;
      }
      process.stdout.write([`image        ${path}: ${size} bytes (payload ${t.payloadLength} + trailer ${t.trailerLength}); signatures not checked`, ...metadataLines(t.metadata, sigs)].join('\n') + '\n');
    });
}
