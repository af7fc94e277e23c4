/** Encodes code/length/value items (DHCP sub-options); callers validate code ≤ 255 and length ≤ 255. */
export function encodeTlv(items: readonly { code: number; data: Uint8Array }[]): Uint8Array {
  let n = 0;
  for (const it of items) n += 2 + it.data.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const it of items) {
    out[o] = it.code;
    out[o + 1] = it.data.length;
    out.set(it.data, o + 2);
    o += 2 + it.data.length;
  }
  return out;
}
