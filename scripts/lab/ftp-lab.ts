/**
 * A two-namespace FTP lab for the benches: server namespace with vsftpd serving random files
 * of the given sizes, client namespace to run our client and the reference tools in.
 * Everything (namespaces, vsftpd, its user, files) goes away in destroy().
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Netns, labTag, run } from './netns.ts';
import { startVsftpd, type Vsftpd } from './vsftpd.ts';

export interface FtpLab {
  netns: Netns;
  serverNs: string;
  clientNs: string;
  server: string;
  user: string;
  password: string;
  root: string;
  /** scratch directory (removed by destroy) */
  work: string;
  vsftpd: Vsftpd;
  /** runs argv in the client namespace (environment inherited); wall time in ms */
  inClient(argv: string[]): Promise<{ stdout: string; stderr: string; wallMs: number }>;
  destroy(): Promise<void>;
}

/** `subnet`: first three octets inside 198.18.0.0/15, e.g. "198.18.50". */
export async function startFtpLab(opts: { prefix: string; subnet: string; files: Record<string, number> }): Promise<FtpLab> {
  const tag = labTag();
  const netns = new Netns();
  const serverNs = `${opts.prefix}s-${tag}`;
  const clientNs = `${opts.prefix}c-${tag}`;
  const server = `${opts.subnet}.1`;
  const user = `cpf${tag}`;
  const password = `Bench-${tag}-pw`;
  const root = await mkdtemp(join(tmpdir(), 'cpf-benchroot-'));
  const work = await mkdtemp(join(tmpdir(), 'cpf-benchwork-'));
  let vsftpd: Vsftpd | undefined;
  const destroy = async (): Promise<void> => {
    await vsftpd?.stop();
    await netns.destroy();
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  };
  try {
    await chmod(root, 0o755);
    for (const [name, size] of Object.entries(opts.files)) {
      await run(['sh', '-c', `head -c ${size} /dev/urandom > '${join(root, name)}'`]);
    }
    await writeFile(join(work, 'netrc'), `machine ${server} login ${user} password ${password}\n`, { mode: 0o600 });
    await netns.add(serverNs);
    await netns.add(clientNs);
    await netns.veth(serverNs, 'bs0', clientNs, 'bc0');
    await netns.addr(serverNs, 'bs0', `${server}/24`);
    await netns.addr(clientNs, 'bc0', `${opts.subnet}.2/24`);
    vsftpd = await startVsftpd(netns, serverNs, { root, address: server, user, password });
  } catch (e) {
    await destroy();
    throw e;
  }
  const v = vsftpd;
  return {
    netns,
    serverNs,
    clientNs,
    server,
    user,
    password,
    root,
    work,
    vsftpd: v,
    async inClient(argv) {
      const t0 = performance.now();
      const r = await netns.exec(clientNs, argv);
      return { stdout: r.stdout, stderr: r.stderr, wallMs: performance.now() - t0 };
    },
    destroy,
  };
}
