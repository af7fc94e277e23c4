/**
 * Builds capture files (pure): classic pcap (either byte order, µs or ns) and pcapng (one
 * section, one interface per link type used, EPB records, optional if_tsresol). Used by
 * tests and labs to produce fixtures real tools (tshark, tcpdump) read back.
 */
export interface FrameIn {
  /** ms since the epoch, fractional */
  time: number;
  data: Uint8Array;
  /** pcapng only; classic pcap uses the file's single link type */
  linkType?: number;
  /** length on the wire; defaults to data.length */
  origLength?: number;
}

function put32(dv: DataView, o: number, v: number, le: boolean): void {
  dv.setUint32(o, v >>> 0, le);
}

export function writePcap(linkType: number, frames: readonly FrameIn[], opts: { littleEndian?: boolean; nanos?: boolean; snaplen?: number } = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const nanos = opts.nanos ?? false;
  let n = 24;
  for (const f of frames) n += 16 + f.data.length;
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  put32(dv, 0, nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  put32(dv, 16, opts.snaplen ?? 262144, le);
  put32(dv, 20, linkType, le);
  let o = 24;
  for (const f of frames) {
    const sec = Math.floor(f.time / 1000);
    const frac = nanos ? Math.round((f.time - sec * 1000) * 1e6) : Math.round((f.time - sec * 1000) * 1e3);
    put32(dv, o, sec, le);
    put32(dv, o + 4, frac, le);
    put32(dv, o + 8, f.data.length, le);
    put32(dv, o + 12, f.origLength ?? f.data.length, le);
    out.set(f.data, o + 16);
    o += 16 + f.data.length;
  }
  return out;
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/**
 * pcapng with one SHB, one IDB per distinct link type (in order of first use) and one EPB per
 * frame. `tsresol` is the if_tsresol byte (6 = µs, 9 = ns, 0x80|n = 2^-n); default 6.
 */
export function writePcapng(frames: readonly FrameIn[], opts: { littleEndian?: boolean; tsresol?: number; defaultLinkType?: number } = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const tsresol = opts.tsresol ?? 6;
  const unitsPerMs = tsresol & 0x80 ? 2 ** (tsresol & 0x7f) / 1000 : 10 ** (tsresol - 3);
  const links: number[] = [];
  for (const f of frames) {
    const lt = f.linkType ?? opts.defaultLinkType ?? 1;
    if (!links.includes(lt)) links.push(lt);
  }
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const len = 12 + body.length + pad4(body.length);
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    put32(dv, 0, type, le);
    put32(dv, 4, len, le);
    b.set(body, 8);
    put32(dv, len - 4, len, le);
    blocks.push(b);
  };
  const shb = new Uint8Array(16);
  const sdv = new DataView(shb.buffer);
  put32(sdv, 0, 0x1a2b3c4d, le);
  sdv.setUint16(4, 1, le);
  sdv.setUint16(6, 0, le);
  sdv.setInt32(8, -1, le);
  sdv.setInt32(12, -1, le);
  block(0x0a0d0d0a, shb);
  for (const lt of links) {
    const idb = new Uint8Array(8 + (tsresol !== 6 ? 8 : 0) + 4);
    const dv = new DataView(idb.buffer);
    dv.setUint16(0, lt, le);
    put32(dv, 4, 262144, le);
    let o = 8;
    if (tsresol !== 6) {
      dv.setUint16(o, 9, le);
      dv.setUint16(o + 2, 1, le);
      idb[o + 4] = tsresol;
      o += 8;
    }
    // opt_endofopt
    dv.setUint16(o, 0, le);
    dv.setUint16(o + 2, 0, le);
    block(1, idb);
  }
  for (const f of frames) {
    const id = links.indexOf(f.linkType ?? opts.defaultLinkType ?? 1);
    const ticks = BigInt(Math.round(f.time * unitsPerMs));
    const body = new Uint8Array(20 + f.data.length + pad4(f.data.length));
    const dv = new DataView(body.buffer);
    put32(dv, 0, id, le);
    put32(dv, 4, Number(ticks >> 32n), le);
    put32(dv, 8, Number(ticks & 0xffffffffn), le);
    put32(dv, 12, f.data.length, le);
    put32(dv, 16, f.origLength ?? f.data.length, le);
    body.set(f.data, 20);
    block(6, body);
  }
  let n = 0;
  for (const b of blocks) n += b.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}
