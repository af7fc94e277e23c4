/**
 * Which options a transaction read from the wire keeps (`fromPayload`): the rules look up
 * only a few selectors (option 82 remote-ID in cable mode, the configured subscriber option,
 * the policy options), so the replay's hot path need not build a view and a map entry for
 * every other option of every ACK. Every option is still walked (repeats, overload and
 * malformed option 82 are detected as before); lease time (51) and requested IP (50) are
 * read into their own fields whatever the filter says.
 */
export interface OptionFilter {
  /** 1 = keep option CODE as "CODE" */
  readonly codes: Uint8Array;
  /** 1 = keep option 82 sub-option SUB as "82.SUB" */
  readonly subs: Uint8Array;
}

/** Keeps everything (fromDhcpMessage's view of a message). */
export const ALL_OPTIONS: OptionFilter = { codes: new Uint8Array(256).fill(1), subs: new Uint8Array(256).fill(1) };

/** The option keys a transaction can hold: "0".."255" and "82.0".."82.255". */
function keyNumber(s: string): number | undefined {
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 && n <= 255 && String(n) === s ? n : undefined;
}

/**
 * A filter keeping the options the given selectors look up (as the rules do: `sel.trim()`
 * is the key). A selector that is no key ("082", "60.1") matches nothing either way.
 */
export function optionFilter(selectors: Iterable<string>): OptionFilter {
  const codes = new Uint8Array(256);
  const subs = new Uint8Array(256);
  for (const sel of selectors) {
    const key = sel.trim();
    const code = keyNumber(key);
    if (code !== undefined) codes[code] = 1;
    else if (key.startsWith('82.')) {
      const sub = keyNumber(key.slice(3));
      if (sub !== undefined) subs[sub] = 1;
    }
  }
  return { codes, subs };
}
