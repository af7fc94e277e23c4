/**
 * mibs/*.txt against the real tools: `smilint -l 3` reports nothing, `snmptranslate -m +MODULE`
 * resolves every object the agent serves to the OID it serves it at (agent/snmp/objects.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeLab } from '../helpers/prereq.ts';
import { snmpTools, type SnmpTools } from '../../scripts/lab/snmp-tools.ts';
import { currentVersionObject, enterpriseObjects, resetObject, systemObjects } from '../../agent/snmp/objects.ts';
import { NOTIFICATIONS } from '../../agent/snmp/notify.ts';
import { LEG_OBJECTS } from '../../agent/snmp/leg-tables.ts';
import { LEG_NOTIFICATIONS } from '../../agent/snmp/leg-notify.ts';

const MIBS = new URL('../../mibs/', import.meta.url).pathname;
let t: SnmpTools;

describeLab('MIB files (smilint, snmptranslate)', ['smilint', 'snmptranslate'], () => {
  beforeAll(async () => {
    t = await snmpTools();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  for (const file of ['CPE-AGENT-MIB.txt', 'DOCS-CABLE-DEVICE-MIB.txt']) {
    it(`smilint -l 3 ${file}: no errors or warnings`, async () => {
      const r = await t.try('smilint', ['-l', '3', join(MIBS, file)]);
      expect(r.code).toBe(0);
      expect(r.stderr + r.stdout).toBe('');
    });
  }

  it('snmptranslate -m +CPE-AGENT-MIB:DOCS-CABLE-DEVICE-MIB resolves every served object to its OID', async () => {
    const defs = [...systemObjects(), resetObject(), currentVersionObject(), ...enterpriseObjects('1.3.6.1.4.1.32473')];
    const out = await t.run('snmptranslate', ['-m', '+CPE-AGENT-MIB:DOCS-CABLE-DEVICE-MIB', '-IR', '-On', ...defs.map((d) => d.name)]);
    const oids = out.trim().split(/\n+/);
    expect(oids).toEqual(defs.map((d) => `.${d.oid}`));
    const n = await t.run('snmptranslate', ['-m', '+CPE-AGENT-MIB', '-IR', '-On', ...Object.keys(NOTIFICATIONS), 'cpeAgentModem', 'cpeEventDetail']);
    expect(n.trim().split(/\n+/)).toEqual([...Object.values(NOTIFICATIONS).map((i) => `.1.3.6.1.4.1.32473.1.4.0.${i}`), '.1.3.6.1.4.1.32473.1.2.1', '.1.3.6.1.4.1.32473.1.1.4.1']);
  });

  it('snmptranslate resolves the LEG objects (cpeLeg) and notifications to the OIDs the LEG serves', async () => {
    const names = Object.keys(LEG_OBJECTS);
    const out = await t.run('snmptranslate', ['-m', '+CPE-AGENT-MIB', '-IR', '-On', ...names, ...Object.keys(LEG_NOTIFICATIONS), 'cpeAgentLeg']);
    expect(out.trim().split(/\n+/)).toEqual([
      ...names.map((n) => `.1.3.6.1.4.1.32473.1.1.5.${LEG_OBJECTS[n] ?? ''}`),
      ...Object.values(LEG_NOTIFICATIONS).map((i) => `.1.3.6.1.4.1.32473.1.4.0.${i}`),
      '.1.3.6.1.4.1.32473.1.2.2',
    ]);
  });

  it('every OBJECT-TYPE in CPE-AGENT-MIB is served by the agent or the LEG (and nothing else)', () => {
    const text = readFileSync(join(MIBS, 'CPE-AGENT-MIB.txt'), 'utf8');
    const declared = [...text.matchAll(/^(\w+) OBJECT-TYPE/gm)].map((m) => m[1]);
    expect(declared.sort()).toEqual([...enterpriseObjects('1.3.6.1.4.1.32473').map((d) => d.name), 'cpeEventDetail', ...Object.keys(LEG_OBJECTS)].sort());
  });
});
