// Loopback ports for the servers the tests start.
import net from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
