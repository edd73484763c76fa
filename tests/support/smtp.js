// A real SMTP sink on loopback (npm smtp-server) that keeps every message it receives.
import { SMTPServer } from 'smtp-server';
import { parseMail, sleep } from './server.js';

/**
 * Start an SMTP sink on 127.0.0.1:port (0 = ephemeral). No TLS, auth optional.
 * Resolves with {port, url, messages, waitFor(), stop()}; messages are
 * {raw, mail (parsed), envelope: {from, to[]}}.
 */
export async function startSmtpSink({ port = 0 } = {}) {
  const messages = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 1000,
    onAuth(auth, session, cb) { cb(null, { user: auth.username || 'anonymous' }); },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          raw,
          mail: parseMail(raw),
          envelope: {
            from: session.envelope.mailFrom && session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
          },
        });
        cb();
      });
    },
  });
  server.on('error', () => {});
  await new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const actual = server.server.address().port;
  let stopped = false;
  return {
    port: actual,
    url: `smtp://127.0.0.1:${actual}`,
    messages,
    /** Messages whose envelope or To header names `to`. */
    messagesTo(to) {
      const t = to.toLowerCase();
      return messages.filter((m) => m.envelope.to.some((a) => a.toLowerCase() === t) || (m.mail.to || '').toLowerCase().includes(t));
    },
    /** Wait until `count` messages to `to` arrived (polling every 50 ms). */
    async waitFor(to, { count = 1, timeoutMs = 15000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = this.messagesTo(to);
        if (got.length >= count) return got;
        if (Date.now() > deadline) {
          throw new Error(`SMTP sink: waited ${timeoutMs} ms for ${count} message(s) to ${to}, got ${got.length}; all recipients: ${JSON.stringify(messages.map((m) => m.envelope.to))}`);
        }
        await sleep(50);
      }
    },
    stop() {
      if (stopped) return Promise.resolve();
      stopped = true;
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
