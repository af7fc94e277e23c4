/**
 * Lab peer: the npm `tftp` package's server (it implements RFC 7440 windowsize), read-only.
 * Usage: node scripts/lab/tftp-npm-server.ts ROOT ADDRESS PORT WINDOWSIZE BLKSIZE_MAX
 * Prints "listening" once bound; exits on SIGTERM.
 */
import { createRequire } from 'node:module';

interface NpmTftpServer {
  on(ev: 'listening', fn: () => void): NpmTftpServer;
  on(ev: 'error', fn: (e: Error) => void): NpmTftpServer;
  on(ev: 'request', fn: (req: { on(ev: 'error', fn: (e: Error) => void): void; file: string }) => void): NpmTftpServer;
  listen(): void;
  close(): void;
}
interface NpmTftp {
  createServer(opts: Record<string, string | number | boolean>): NpmTftpServer;
}

const require = createRequire(import.meta.url);
const tftp = require('tftp') as NpmTftp;

const [root, host, port, windowSize, blockSize] = process.argv.slice(2);
if (!root || !host || !port) {
  process.stderr.write('usage: tftp-npm-server.ts ROOT ADDRESS PORT [WINDOWSIZE] [BLKSIZE_MAX]\n');
  process.exit(2);
}
const server = tftp.createServer({
  root,
  host,
  port: Number(port),
  windowSize: Number(windowSize ?? 4),
  blockSize: Number(blockSize ?? 65464),
  denyPUT: true,
});
server.on('error', (e) => {
  process.stderr.write(`server error: ${e.message}\n`);
  process.exit(1);
});
server.on('request', (req) => {
  req.on('error', (e) => process.stderr.write(`request ${req.file}: ${e.message}\n`));
});
server.on('listening', () => process.stdout.write('listening\n'));
server.listen();
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
