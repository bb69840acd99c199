import { ADVICE, CAUSE_ADVICE } from './advice.js';
import type { Verdict } from './classifier.js';
import type { Side } from './labels.js';

export function humanSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function other(side: Side): Side {
  return side === 'client' ? 'server' : 'client';
}

/**
 * One or two plain sentences naming what happened to this connection, with its own numbers, then the fix from the
 * taxonomy (src/classify/advice.ts, docs/taxonomy.md).
 */
export function explain(v: Verdict, names: { client: string; server: string }): string {
  const who = (side: Side) => `the ${side} (${names[side]})`;
  const f = v.facts;
  const closer = v.closer === 'client' || v.closer === 'server' ? v.closer : null;
  let what: string;
  switch (v.ending) {
    case 'graceful-fin':
      what =
        v.cause === 'simultaneous-close'
          ? 'Both ends closed at the same time: the FINs crossed and both were acknowledged.'
          : `${cap(who(closer ?? 'client'))} closed first and the other end closed after it${
              v.closeWaitMs !== null && v.closeWaitMs >= 1000 ? ` (${humanSeconds(v.closeWaitMs / 1000)} later)` : ''
            }; both FINs were acknowledged.`;
      return what;
    case 'abortive-rst':
      if (v.cause === 'data-after-close') {
        const a = v.actor ?? 'server';
        what = `${cap(who(a))} had closed the connection, then data from ${who(other(a))} reached it and its kernel answered with a RST: ${who(other(a))} wrote to a closed connection${
          f.sinceFinS !== undefined ? ` ${humanSeconds(f.sinceFinS)} after the FIN` : ''
        }.`;
      } else if (v.cause === 'unread-data') {
        const a = v.actor ?? 'server';
        what = `${cap(who(a))} closed its socket while data it had received was still unread${
          f.unreadBytes ? ` (${f.unreadBytes} bytes since it last sent)` : ''
        }, so its kernel sent a RST instead of a FIN.`;
      } else if (v.cause === 'linger-abort') {
        const a = v.actor ?? 'server';
        what = `${cap(who(a))} aborted the connection with a RST while nothing was left unread (SO_LINGER 0, or a runtime that aborts).`;
      } else {
        const a = v.actor ?? 'client';
        what = `${cap(who(a))} reset the connection during the handshake.`;
      }
      break;
    case 'orphan-timeout-rst': {
      const cw = v.actor ?? 'client';
      what = `${cap(who(other(cw)))} closed first; ${who(cw)} acknowledged its FIN but kept its socket open ${
        f.closeWaitS !== undefined ? `for ${humanSeconds(f.closeWaitS)} ` : ''
      }in CLOSE_WAIT. When it finally closed, the closer's orphaned socket had expired (tcp_fin_timeout) and its kernel answered with a RST.`;
      break;
    }
    case 'close-wait-stuck': {
      const cw = v.actor ?? 'client';
      what = `${cap(who(other(cw)))} closed; ${who(cw)} acknowledged the FIN but never closed its socket: it sat in CLOSE_WAIT for ${
        v.closeWaitMs !== null ? humanSeconds(v.closeWaitMs / 1000) : 'the rest of the capture'
      }, silent, until the capture ended.`;
      break;
    }
    case 'lost-state-rst': {
      const a = v.actor ?? 'server';
      what = `${cap(who(a))} answered a segment with a socket-less RST although it had never closed: it no longer knew the connection (a reboot, a crash, or state dropped by the kernel or a middlebox).`;
      break;
    }
    case 'refused':
      what = `Nothing listened on ${names.server}: the SYN${f.synCount && f.synCount > 1 ? 's were' : ' was'} answered with a RST (or a firewall rejected it).`;
      break;
    case 'unanswered':
      what = `The client sent ${f.synCount ?? 1} SYN${(f.synCount ?? 1) > 1 ? 's' : ''} to ${names.server} and never got an answer${
        v.appView.client === 'ETIMEDOUT' ? '; it gave up (ETIMEDOUT)' : ''
      }.`;
      break;
    case 'peer-unresponsive': {
      const gone = v.actor ?? 'server';
      what = `${cap(who(gone))} stopped answering: ${who(other(gone))} ${
        f.retransmissions ? `retransmitted ${f.retransmissions} times` : `sent ${f.keepAlives ?? 0} keep-alive probes`
      } with no acknowledgement${v.rstReason === 'TCP_KEEPALIVE_TIMEOUT' ? ', then reset the connection when its keep-alive timer expired' : ''}.`;
      break;
    }
    case 'half-closed': {
      const w = v.actor ?? 'server';
      what = `${cap(who(other(w)))} closed its side; ${who(w)} had not closed yet when the capture ended.`;
      return what;
    }
    case 'open':
      return 'The connection was still open when the capture ended (no FIN or RST seen).';
  }
  const fix = v.cause !== null ? CAUSE_ADVICE[v.cause].fix : ADVICE[v.ending].fix;
  return `${what} ${fix}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
