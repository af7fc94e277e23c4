/**
 * agent/log.ts writes the JSON lines pino 10 wrote (base: undefined, redact paths k, *.k, *.*.k),
 * byte for byte: tests, bench scripts and operators parse them. The expected lines below are
 * pino 10.4.0's own output for the same calls (captured side by side before pino was removed;
 * the only case where the two differed was a Buffer field, on which pino threw).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, MASK, silentLogger, type Logger } from '../agent/log.ts';

const T = 1700000000123;
beforeEach(() => vi.spyOn(Date, 'now').mockReturnValue(T));
afterEach(() => vi.restoreAllMocks());

function capture(level = 'trace', format: 'json' | 'text' = 'json'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ format, level, destination: { write: (s: string) => void lines.push(s) } }), lines };
}

const circ: Record<string, unknown> = { b: 1, a: 2 };
circ.self = circ;
const frozen = Object.freeze({ password: 'f', deep: Object.freeze({ secret: 's' }) });
class MyErr extends Error {
  code = 'E_X';
  constructor(m: string, o?: { cause?: unknown }) {
    super(m, o);
    this.name = 'MyErr';
  }
}

const CASES: Array<[string, (l: Logger) => void, string]> = [
  ["str", (l) => l.info('hello "world"\n\t\\ é ✓ \u0001'), String.raw`{"level":30,"time":1700000000123,"msg":"hello \"world\"\n\t\\ é ✓ \u0001"}`],
  ["lone surrogate", (l) => l.info({ s: 'a\ud800b' }, 'x\udc00'), String.raw`{"level":30,"time":1700000000123,"s":"a\ud800b","msg":"x\udc00"}`],
  ["long str", (l) => l.info({ s: 'q"'.repeat(80) }, 'm'.repeat(150)), String.raw`{"level":30,"time":1700000000123,"s":"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"q\"","msg":"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm"}`],
  ["obj msg", (l) => l.info({ a: 1, b: 'two', c: null, d: undefined, e: [1, 'x', null, undefined], f: { g: { h: [true] } } }, 'msg'), String.raw`{"level":30,"time":1700000000123,"a":1,"b":"two","c":null,"e":[1,"x",null,null],"f":{"g":{"h":[true]}},"msg":"msg"}`],
  ["no msg", (l) => l.warn({ a: 1 }), String.raw`{"level":40,"time":1700000000123,"a":1}`],
  ["empty", (l) => l.info({}), String.raw`{"level":30,"time":1700000000123}`],
  ["numbers", (l) => l.info({ n: NaN, i: Infinity, m: -0, f: 1.5e300, nested: { n: NaN } }), String.raw`{"level":30,"time":1700000000123,"n":null,"i":null,"m":0,"f":1.5e+300,"nested":{"n":null}}`],
  ["fn & symbol", (l) => l.info({ f: () => 1, s: Symbol('x'), o: { f: () => 1 } }, 'x'), String.raw`{"level":30,"time":1700000000123,"o":{},"msg":"x"}`],
  ["bigint", (l) => l.info({ big: 12345678901234567890n, o: { b: 1n, a: 2 } }, 'x'), String.raw`{"level":30,"time":1700000000123,"big":12345678901234567890,"o":{"a":2,"b":1},"msg":"x"}`],
  ["circular", (l) => l.info({ c: circ }, 'x'), String.raw`{"level":30,"time":1700000000123,"c":{"a":2,"b":1,"self":{"a":2,"b":1,"self":{"a":2,"b":1,"self":"[Circular]"}}},"msg":"x"}`],
  ["deep circular", (l) => { const o: Record<string, unknown> = { z: { y: { x: { w: { v: { u: { t: 1 } } } } } } }; o.me = o; l.info({ o }, 'x'); }, String.raw`{"level":30,"time":1700000000123,"o":{"me":{"me":{"me":"[Circular]","z":{"y":{"x":"[Object]"}}},"z":{"y":{"x":{"w":"[Object]"}}}},"z":{"y":{"x":{"w":{"v":"[Object]"}}}}},"msg":"x"}`],
  ["error other key", (l) => l.warn({ error: new MyErr('other') }, 'x'), String.raw`{"level":40,"time":1700000000123,"error":{"code":"E_X","name":"MyErr"},"msg":"x"}`],
  ["err not error", (l) => l.error({ err: 'a string' }, 'x'), String.raw`{"level":50,"time":1700000000123,"err":"a string","msg":"x"}`],
  ["date", (l) => l.info({ d: new Date(0), n: { d: new Date(1) } }, 'x'), String.raw`{"level":30,"time":1700000000123,"d":"1970-01-01T00:00:00.000Z","n":{"d":"1970-01-01T00:00:00.001Z"},"msg":"x"}`],
  ["map/set", (l) => l.info({ m: new Map([[1, 2]]), s: new Set([1]) }, 'x'), String.raw`{"level":30,"time":1700000000123,"m":{},"s":{},"msg":"x"}`],
  ["typed", (l) => l.info({ t: new Uint8Array([1, 2]) }, 'x'), String.raw`{"level":30,"time":1700000000123,"t":{"0":1,"1":2},"msg":"x"}`],
  ["redact top", (l) => l.info({ password: 'p', pass: 1, community: null, authKey: { a: 1 }, privKey: [1], secret: false, user: 'u' }, 'x'), String.raw`{"level":30,"time":1700000000123,"password":"***","pass":"***","community":"***","authKey":"***","privKey":"***","secret":"***","user":"u","msg":"x"}`],
  ["redact top undefined", (l) => l.info({ password: undefined, secret: '' }, 'x'), String.raw`{"level":30,"time":1700000000123,"secret":"***","msg":"x"}`],
  ["redact 1", (l) => l.info({ offer: { password: 'p', user: 'u', community: null, secret: undefined, pass: 0 } }, 'x'), String.raw`{"level":30,"time":1700000000123,"offer":{"password":"***","user":"u","community":"***","secret":"***","pass":"***"},"msg":"x"}`],
  ["redact 2", (l) => l.info({ a: { b: { password: 'p', pass: null, secret: undefined, keep: 1 }, c: { d: { password: 'deep3' } } } }, 'x'), String.raw`{"level":30,"time":1700000000123,"a":{"b":{"password":"***","pass":"***","secret":"***","keep":1},"c":{"d":{"password":"deep3"}}},"msg":"x"}`],
  ["redact 3 deep", (l) => l.info({ a: { b: { c: { password: 'level3' } } } }, 'x'), String.raw`{"level":30,"time":1700000000123,"a":{"b":{"c":{"password":"level3"}}},"msg":"x"}`],
  ["redact arrays", (l) => l.info({ list: [{ password: 'p' }, { x: { secret: 's' } }], a: { list: [{ community: 'c' }] } }, 'x'), String.raw`{"level":30,"time":1700000000123,"list":[{"password":"***"},{"x":{"secret":"s"}}],"a":{"list":[{"community":"c"}]},"msg":"x"}`],
  ["redact arr top", (l) => l.info({ arr: [[{ password: 'p' }]] }, 'x'), String.raw`{"level":30,"time":1700000000123,"arr":[[{"password":"p"}]],"msg":"x"}`],
  ["redact string val", (l) => l.info({ s: 'password', o: { t: 'secret' } }, 'password'), String.raw`{"level":30,"time":1700000000123,"s":"password","o":{"t":"secret"},"msg":"password"}`],
  ["redact frozen", (l) => l.info({ f: frozen }, 'x'), String.raw`{"level":30,"time":1700000000123,"f":{"password":"***","deep":{"secret":"***"}},"msg":"x"}`],
  ["redact inherited", (l) => l.info({ o: Object.create({ password: 'inh' }) as object, p: { q: Object.create({ secret: 'inh' }) as object } }, 'x'), String.raw`{"level":30,"time":1700000000123,"o":{},"p":{"q":{}},"msg":"x"}`],
  ["circ arr", (l) => { const a: unknown[] = [1]; a.push(a); l.info({ a, o: { a } }, 'x'); }, String.raw`{"level":30,"time":1700000000123,"a":[1,[1,[1,"[Circular]"]]],"o":{"a":[1,[1,"[Circular]"]]},"msg":"x"}`],
  ["sparse", (l) => l.info({ a: [1, , 3], o: { a: [, 2] } }, 'x'), String.raw`{"level":30,"time":1700000000123,"a":[1,null,3],"o":{"a":[null,2]},"msg":"x"}`],
  ["redact secret obj", (l) => l.info({ o: { password: { secret: 1 } }, secret: { password: 2 } }, 'x'), String.raw`{"level":30,"time":1700000000123,"o":{"password":"***"},"secret":"***","msg":"x"}`],
  ["date top", (l) => l.info({ d: new Date(3) }, 'x'), String.raw`{"level":30,"time":1700000000123,"d":"1970-01-01T00:00:00.003Z","msg":"x"}`],
  ["redact + circular", (l) => l.info({ c: { password: 'p', circ } }, 'x'), String.raw`{"level":30,"time":1700000000123,"c":{"circ":{"a":2,"b":1,"self":{"a":2,"b":1,"self":"[Circular]"}},"password":"***"},"msg":"x"}`],
  ["redact date nested", (l) => l.info({ o: { password: 'p', d: new Date(5) } }, 'x'), String.raw`{"level":30,"time":1700000000123,"o":{"password":"***","d":"1970-01-01T00:00:00.005Z"},"msg":"x"}`],
  ["redact key msg", (l) => l.info({ msg: { password: 'p' } }), String.raw`{"level":30,"time":1700000000123,"msg":{"password":"***"}}`],
  ["key quoting", (l) => l.info({ 'a"b': 1, 'n\nl': 2, 'ü': 3 }, 'x'), String.raw`{"level":30,"time":1700000000123,"a\"b":1,"n\nl":2,"ü":3,"msg":"x"}`],
  ["child", (l) => l.child({ mod: 'dhcp', iface: 'eth0' }).info({ a: 1 }, 'x'), String.raw`{"level":30,"time":1700000000123,"mod":"dhcp","iface":"eth0","a":1,"msg":"x"}`],
  ["child of child", (l) => l.child({ a: 1 }).child({ b: { c: 2 }, a: 3 }).warn({ a: 4 }, 'x'), String.raw`{"level":40,"time":1700000000123,"a":1,"b":{"c":2},"a":3,"a":4,"msg":"x"}`],
  ["child redact", (l) => l.child({ password: 'p', o: { secret: 's', x: 1 }, d: undefined, s: 'q"\n' }).info('x'), String.raw`{"level":30,"time":1700000000123,"password":"***","o":{"secret":"***","x":1},"s":"q\"\n","msg":"x"}`],
  ["child level key", (l) => l.child({ level: 99, x: 1 }).info('x'), String.raw`{"level":30,"time":1700000000123,"x":1,"msg":"x"}`],
  ["child function and NaN bindings", (l) => l.child({ f: () => 1, n: NaN, k: 'v' }).info('x'), String.raw`{"level":30,"time":1700000000123,"n":null,"k":"v","msg":"x"}`],
  ["child key quote", (l) => l.child({ 'a"b': 1 }).info('x'), String.raw`{"level":30,"time":1700000000123,"a\"b":1,"msg":"x"}`],
  ["level var", (l) => { for (const lv of ['info', 'warn'] as const) l[lv]({ k: lv }, lv); }, String.raw`{"level":30,"time":1700000000123,"k":"info","msg":"info"}` + '\n' + String.raw`{"level":40,"time":1700000000123,"k":"warn","msg":"warn"}`],
  ["number msg", (l) => l.info(42), String.raw`{"level":30,"time":1700000000123,"msg":42}`],
  ["obj with number msg", (l) => l.info({ a: 1 }, 7 as unknown as string), String.raw`{"level":30,"time":1700000000123,"a":1,"msg":7}`],
  ["null obj", (l) => l.info(null), String.raw`{"level":30,"time":1700000000123,"msg":null}`],
  ["null obj msg", (l) => l.info(null, 'm'), String.raw`{"level":30,"time":1700000000123,"msg":"m"}`],
  ["undefined obj msg", (l) => l.info(undefined, 'm'), String.raw`{"level":30,"time":1700000000123,"msg":"m"}`],
  ["array obj", (l) => l.info([1, 2] as unknown as object, 'm'), String.raw`{"level":30,"time":1700000000123,"0":1,"1":2,"msg":"m"}`],
  ["toJSON obj", (l) => l.info({ t: { toJSON: () => ({ x: 1 }) } }, 'm'), String.raw`{"level":30,"time":1700000000123,"t":{"x":1},"msg":"m"}`],
  ["getter", (l) => l.info({ get g() { return 5; } }, 'm'), String.raw`{"level":30,"time":1700000000123,"g":5,"msg":"m"}`],
  ["proto fields", (l) => l.info(Object.assign(Object.create({ inh: 1 }) as object, { own: 2 }), 'm'), String.raw`{"level":30,"time":1700000000123,"own":2,"msg":"m"}`],
];

describe('JSON lines as pino 10 wrote them', () => {
  it.each(CASES)('%s', (_name, call, expected) => {
    const { log, lines } = capture();
    call(log);
    expect(lines.join('')).toBe(expected + '\n'); // one write per line:
    expect(lines.length).toBe(expected.split('\n').length);
  });

  it('an Error under `err`, or logged as the object: {type, message (with causes), stack, …own props}; msg = its own message unless given', () => {
    const { log, lines } = capture();
    const inner = new Error('inner', { cause: new Error('root') });
    const e = Object.assign(new MyErr('outer', { cause: inner }), { detail: { password: 'pw', x: 1 } });
    log.error(e);
    log.info(e, 'given');
    log.warn({ err: e });
    log.warn({ err: e, msg: 'own' });
    const recs = lines.map((l) => JSON.parse(l) as { err: Record<string, unknown>; msg: string });
    expect(recs.map((r) => r.msg)).toEqual(['outer', 'given', 'outer', 'own']); // pino: the error's own message
    for (const r of recs) {
      expect(Object.keys(r.err)).toEqual(['type', 'message', 'stack', 'code', 'name', 'detail']);
      expect(r.err).toMatchObject({ type: 'MyErr', message: 'outer: inner: root', code: 'E_X', name: 'MyErr', detail: { password: MASK, x: 1 } });
      expect(r.err.stack).toMatch(/^MyErr: outer\n {4}at [^]*\ncaused by: Error: inner\n {4}at [^]*\ncaused by: Error: root\n {4}at /);
    }
    expect(lines[0]!.startsWith(`{"level":50,"time":${T},"err":{"type":"MyErr","message":"outer: inner: root","stack":"MyErr: outer\\n    at `)).toBe(true);
    expect(e.detail.password).toBe('pw'); // the caller's object is not changed
  });

  it('AggregateError: aggregateErrors serialized; a child binding `err` is serialized too', () => {
    const { log, lines } = capture();
    log.error({ err: new AggregateError([new Error('one'), new TypeError('two')], 'many') }, 'x');
    log.child({ err: new Error('bound') }).info('y');
    const a = JSON.parse(lines[0]!) as { err: { type: string; aggregateErrors: Array<{ type: string; message: string }> } };
    expect(a.err.type).toBe('AggregateError');
    expect(a.err.aggregateErrors.map((x) => [x.type, x.message])).toEqual([['Error', 'one'], ['TypeError', 'two']]);
    expect(JSON.parse(lines[1]!)).toMatchObject({ err: { type: 'Error', message: 'bound' }, msg: 'y' });
  });

  it('a Buffer field is written as Buffer#toJSON (pino threw a TypeError here)', () => {
    const { log, lines } = capture();
    log.info({ b: Buffer.from('ab') }, 'x');
    expect(lines).toEqual([`{"level":30,"time":${T},"b":{"type":"Buffer","data":[97,98]},"msg":"x"}\n`]);
  });
});

describe('levels', () => {
  const all = (l: Logger): void => {
    for (const lv of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) l[lv](lv);
  };
  it.each([
    ['trace', [10, 20, 30, 40, 50, 60]],
    ['info', [30, 40, 50, 60]],
    ['warn', [40, 50, 60]],
    ['fatal', [60]],
    ['silent', []],
  ] as const)('level %s writes %j', (level, numbers) => {
    const { log, lines } = capture(level);
    all(log);
    all(log.child({ c: 1 }));
    const got = lines.map((l) => (JSON.parse(l) as { level: number }).level);
    expect(got).toEqual([...numbers, ...numbers]);
  });
  it('default info, or CPE_AGENT_LOG_LEVEL; an unknown level is refused', () => {
    const lines: string[] = [];
    const destination = { write: (s: string) => void lines.push(s) };
    vi.stubEnv('CPE_AGENT_LOG_LEVEL', '');
    delete process.env.CPE_AGENT_LOG_LEVEL;
    all(createLogger({ format: 'json', destination }));
    expect(lines).toHaveLength(4);
    vi.stubEnv('CPE_AGENT_LOG_LEVEL', 'error');
    all(createLogger({ format: 'json', destination }));
    expect(lines).toHaveLength(6);
    vi.unstubAllEnvs();
    expect(() => createLogger({ level: 'verbose' })).toThrow(expect.objectContaining({ code: 'LOG_LEVEL' }));
  });
  it('silentLogger writes nothing, has children, and flush is harmless', () => {
    const write = vi.spyOn(process.stderr, 'write');
    const s = silentLogger();
    all(s);
    all(s.child({ a: 1 }).child({ b: 2 }));
    s.flush();
    expect(write).not.toHaveBeenCalled();
  });
});

describe('text format', () => {
  it('HH:MM:SS.mmm LEVEL msg k=v (strings bare, the rest as JSON), secrets masked', () => {
    const { log, lines } = capture('info', 'text');
    log.child({ mod: 'dhcp' }).warn({ iface: 'wan0', n: 3, o: { password: 'x', a: [1] } }, 'lease lost');
    log.info('plain');
    const t = new Date(T).toISOString().slice(11, 23);
    expect(lines).toEqual([`${t} WARN  lease lost mod=dhcp iface=wan0 n=3 o={"password":"***","a":[1]}\n`, `${t} INFO  plain\n`]);
  });
});
