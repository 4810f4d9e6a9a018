// Preloaded (node --import) into test servers that hard-code a wildcard listen address (kinesis-local binds
// 0.0.0.0): rewrites wildcard or missing hosts of net.Server#listen to 127.0.0.1, so the harness serves on
// the loopback interface only.
import net from 'node:net';

const WILDCARD = new Set([undefined, null, '', '0.0.0.0', '::', '[::]']);
const original = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    // listen(options[, backlog][, callback]); a handle or a unix socket path is left alone.
    if (
      first.path === undefined &&
      first.handle === undefined &&
      first._handle === undefined &&
      first.fd === undefined
    ) {
      if (WILDCARD.has(first.host)) args[0] = { ...first, host: '127.0.0.1' };
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] === 'string') {
      if (WILDCARD.has(args[1])) args[1] = '127.0.0.1';
    } else {
      args.splice(1, 0, '127.0.0.1');
    }
  }
  return original.apply(this, args);
};
