/**
 * node:crypto, loaded on first use. A static `import … from 'node:crypto'` loads it (about twenty
 * internal modules and OpenSSL's state: +2.6 MiB RSS, README "Footprint") into every process at
 * start; through this function only a process that hashes, verifies or signs pays for it. The
 * idle daemon never does: it hashes its slots in a child process (agent/transfer/digest-child.ts).
 */
export function nodeCrypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}
