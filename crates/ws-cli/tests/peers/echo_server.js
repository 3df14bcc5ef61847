'use strict';
// An echo server on Node `ws` for the wsp tests: listens on 127.0.0.1
// port 0 and prints {"event": "listening", "port": N}; for each connection
// prints {"event": "open", ...} with the request's path and headers, the
// chosen subprotocol and the negotiated extensions, then echoes every
// message, text as text and binary as binary, until "bye" (text or binary),
// which it answers with close 1000 "bye". Runs until killed.

const http = require('http');
const { WebSocketServer } = require('ws');

const report = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const server = http.createServer();
const wss = new WebSocketServer({
  server,
  perMessageDeflate: true,
  handleProtocols: (offered) => ['chat.v2', 'chat.v1'].find((p) => offered.has(p)) || false,
});
let extensions = null;
wss.on('headers', (headers) => {
  const line = headers.find((h) => h.toLowerCase().startsWith('sec-websocket-extensions:'));
  extensions = line ? line.slice(line.indexOf(':') + 1).trim() : null;
});
wss.on('connection', (ws, request) => {
  report({
    event: 'open',
    path: request.url,
    headers: request.headers,
    subprotocol: ws.protocol || null,
    extensions,
  });
  ws.on('message', (data, isBinary) => {
    if (data.toString() === 'bye') {
      ws.close(1000, 'bye');
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
server.listen(0, '127.0.0.1', () => report({ event: 'listening', port: server.address().port }));
