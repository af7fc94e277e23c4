/** Human view of the status model (`cpe-agent status` without --json). Pure. */
import type { StatusSnapshot, ImageView } from './model.ts';

function image(v: ImageView | null): string {
  if (!v) return '-';
  return `slot ${v.slot}  version ${v.version ?? '?'}  md5 ${v.md5}${v.file ? `  (${v.file})` : ''}${v.signedAt ? `  signed ${v.signedAt}` : ''}`;
}

function pct(bytes: number, total: number | null): string {
  return total ? ` ${Math.floor((bytes * 100) / total)}%` : '';
}

function lastSeen(l: NonNullable<StatusSnapshot['daemon']['lastSeen']>): string {
  const step = l.phase
    ? `last recorded step: ${l.phase}${l.progress ? ` ${l.progress.file} ${l.progress.bytes} bytes${pct(l.progress.bytes, l.progress.total)}` : ''}${l.at ? ` at ${l.at}` : ''}`
    : 'no step recorded';
  return `pid ${l.pid ?? '?'} gone without a clean exit; ${step}; stale ${l.staleFiles.join(', ')}`;
}

export function renderStatusText(s: StatusSnapshot): string {
  const lines: string[] = [];
  const row = (k: string, v: string): void => void lines.push(`${k.padEnd(13)} ${v}`);
  row('state', s.stateText);
  row('running', image(s.running));
  row('staged', s.staged ? `${image(s.staged)}${s.staged.urgent ? '  urgent' : ''}${s.staged.rebootRequested ? '  reboot requested' : ''}` : '-');
  const d = s.daemon;
  row('daemon', d.running ? `running (pid ${d.pid ?? '?'}, ${d.phase ?? '?'})` : `not running${d.lastSeen ? ` (${lastSeen(d.lastSeen)})` : ''}`);
  if (s.stateFile.status === 'corrupt') row('state file', `corrupt (${s.stateFile.detail ?? '?'}): rebuilt from the slots at the next start`);
  if (s.stateFile.status === 'rebuilt') row('state file', `was corrupt, rebuilt from the slots${s.stateFile.at ? ` at ${s.stateFile.at}` : ''}${s.stateFile.detail ? `: ${s.stateFile.detail}` : ''}`);
  if (d.lease) row('lease', `${d.lease.address} from ${d.lease.serverId}`);
  if (d.progress) row('download', `${d.progress.file} ${d.progress.bytes} bytes${pct(d.progress.bytes, d.progress.total)}`);
  const a = s.attempts;
  row('attempts', `${a.failures} failed this round, ${a.totalFailures} for this offer${a.gaveUp ? ', gave up until the next DHCP ACK' : ''}${a.verifyFailed ? ', verification failed' : ''}${a.nextAttemptAt ? `, next at ${a.nextAttemptAt}` : ''}`);
  if (s.lastOffer) {
    const o = s.lastOffer;
    row('last offer', `${o.protocol ?? '?'}://${o.user ? `${o.user}:${o.password ?? ''}@` : ''}${o.server ?? '?'}/${o.softwareFile ?? ''} md5 ${o.softwareMd5 ?? '?'}${o.urgent ? ' urgent' : ''}`);
  }
  if (s.lastDecision) row('decision', `${s.lastDecision.code}: ${s.lastDecision.reason}`);
  if (s.config) row('config file', `${s.config.file} md5 ${s.config.md5} → ${s.config.path}`);
  if (s.lastError) row('last error', `${s.lastError.code}: ${s.lastError.message} (${s.lastError.at})`);
  row('boots', String(s.bootCount));
  if (s.history.length) {
    lines.push('history');
    for (const h of s.history.slice(-8)) {
      lines.push(`  ${h.at}  ${h.event.padEnd(16)} ${h.slot ?? ''} ${h.version ?? ''} ${h.detail ?? ''}`.trimEnd());
    }
  }
  return lines.join('\n') + '\n';
}
