/**
 * AgentX subagent mode against Debian's Net-SNMP snmpd (`master agentx` on a unix socket in a
 * temp dir, SNMP on 127.0.0.1): our subtrees in snmpd's walk beside its own MIBs, values from
 * the status model, noSuchInstance for a missing instance, 100 concurrent gets through snmpd
 * with none lost, docsDevResetNow through snmpd → one reboot, and snmpd killed (TERM, KILL)
 * and restarted → our subtree answers again within 2 s with the same values.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import snmp from 'net-snmp';
import { describeLab } from '../helpers/prereq.ts';
import { startSnmpd, type Snmpd } from '../../scripts/lab/snmpd.ts';
import { snmpTools, type SnmpTools } from '../../scripts/lab/snmp-tools.ts';
import { configSchema } from '../../agent/config/schema.ts';
import { createLogger, silentLogger } from '../../agent/log.ts';
import { startSnmp, type SnmpService } from '../../agent/snmp/index.ts';
import { FakeDaemon, freePort } from './fixtures.ts';
import { get, set, v2 } from './client.ts';

const E = '1.3.6.1.4.1.32473.1.1';
const VERSION = `${E}.2.2.0`;
let snmpd: Snmpd;
let tools: SnmpTools;
let svc: SnmpService;
let daemon: FakeDaemon;
let port: number;

const peer = (community = 'pub-x'): string[] => ['-v2c', '-c', community, '-t', '1', '-r', '0', `127.0.0.1:${port}`];

describeLab('AgentX subagent through Net-SNMP snmpd', ['snmpd', 'snmpget', 'snmpwalk'], () => {
  beforeAll(async () => {
    port = await freePort();
    tools = await snmpTools();
    snmpd = await startSnmpd({ port, read: 'pub-x', write: 'priv-x' });
    daemon = new FakeDaemon();
    const cfg = configSchema.parse({ vendorClass: 'ESH-3105', snmp: { mode: 'agentx', agentx: { master: snmpd.agentxSocket } } });
    const s = await startSnmp(cfg, daemon, process.env.SNMP_TEST_LOG ? createLogger({ level: 'debug' }) : silentLogger());
    if (!s?.agentx) throw new Error('no agentx link');
    svc = s;
    await s.agentx.whenReady();
  });
  afterAll(async () => {
    await svc?.close();
    await snmpd?.stop();
    await tools?.cleanup();
  });

  it('snmpwalk through snmpd shows snmpd\'s system group and our subtrees by name; docsDevSwCurrentVers = the model', async () => {
    const sys = await tools.run('snmpget', ['-Oqv', ...peer(), 'SNMPv2-MIB::sysDescr.0']);
    expect(sys.trim()).toBe('lab snmpd (AgentX master)');
    const walk = await tools.run('snmpwalk', ['-m', '+CPE-AGENT-MIB', ...peer(), 'cpeAgentMIB']);
    expect(walk).toContain('CPE-AGENT-MIB::cpeRunningVersion.0 = STRING: 1.1.0');
    expect(walk).toContain('CPE-AGENT-MIB::cpeStagedSlot.0 = INTEGER: b(2)');
    expect(walk.trim().split('\n')).toHaveLength(26);
    const docs = await tools.run('snmpwalk', ['-m', '+DOCS-CABLE-DEVICE-MIB', ...peer(), 'docsDev']);
    expect(docs).toContain(`DOCS-CABLE-DEVICE-MIB::docsDevSwCurrentVers.0 = STRING: "${daemon.status().running?.version}"`);
    expect(docs).toContain('DOCS-CABLE-DEVICE-MIB::docsDevResetNow.0 = INTEGER: false(2)');
    expect(docs).toContain('DOCS-CABLE-DEVICE-MIB::docsDevSwOperStatus.0');
  });

  it('a missing instance of a registered object → noSuchInstance', async () => {
    const s = v2(port, 'pub-x');
    const r = await get(s, [`${E}.2.2.1`]);
    s.close();
    expect(r.ok && r.varbinds[0]?.type).toBe(snmp.ObjectType.NoSuchInstance);
  });

  it('100 concurrent gets through snmpd → 100 answers, none lost', async () => {
    const s = snmp.createSession('127.0.0.1', 'pub-x', { port, version: snmp.Version2c, timeout: 5000, retries: 0 });
    const all = await Promise.all(Array.from({ length: 100 }, () => get(s, [VERSION, `${E}.2.3.0`])));
    s.close();
    const ok = all.filter((r) => r.ok && String(r.varbinds[0]?.value) === '1.1.0' && r.varbinds[1]?.type === snmp.ObjectType.OctetString);
    expect(ok).toHaveLength(100);
  });

  it('docsDevResetNow.0 = 1 through snmpd (write community) → one reboot; wrong type → wrongType, nothing', async () => {
    const s = v2(port, 'priv-x');
    const bad = await set(s, [{ oid: '1.3.6.1.2.1.69.1.1.3.0', type: snmp.ObjectType.Gauge32, value: 1 }]);
    expect(bad.ok).toBe(false);
    const r = await set(s, [{ oid: '1.3.6.1.2.1.69.1.1.3.0', type: snmp.ObjectType.Integer, value: 1 }]);
    s.close();
    expect(r.ok).toBe(true);
    await new Promise((res) => setTimeout(res, 50));
    expect(daemon.reboots).toEqual(['snmp']);
  });

  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`snmpd killed (${signal}) and restarted → our subtree answers again within 2 s, values intact`, async () => {
      const link = svc.agentx;
      if (!link) throw new Error('no link');
      const sessions = link.sessions;
      await snmpd.kill(signal);
      await snmpd.start();
      const t0 = Date.now();
      let value = '';
      while (Date.now() - t0 < 5000) {
        const s = v2(port, 'pub-x');
        const r = await get(s, [VERSION]);
        s.close();
        if (r.ok && r.varbinds[0]?.type === snmp.ObjectType.OctetString) {
          value = String(r.varbinds[0].value);
          break;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      const took = Date.now() - t0;
      expect(value).toBe('1.1.0');
      expect(took).toBeLessThan(2000);
      expect(link.sessions).toBe(sessions + 1);
    });
  }
});
