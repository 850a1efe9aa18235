// bench/dispatch.ts experiments only (not used by a default run): forces TCP_NODELAY on every socket of the process
// it is preloaded into, whatever the library asked (amqplib calls setNoDelay(false) unless given noDelay: true).
// Usage: npm run bench:dispatch -- --worker-env=NODE_OPTIONS=--import=<file URL of this file>
import net from 'node:net';

const setNoDelay = net.Socket.prototype.setNoDelay;
net.Socket.prototype.setNoDelay = function forcedNoDelay() {
  return setNoDelay.call(this, true);
};
