'use strict';
// The `ws` interop server: listens on 127.0.0.1, port 0, prints
// {"event": "listening", "port": N}, runs the script (steps.js) on the first
// connection, then exits (0 when every step succeeded).
//
//   node server.js --steps JSON [--deflate] [--cert PEM --key PEM] [--timeout S]

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');
const steps = require('./steps');

async function run(options, script) {
  const server = options.cert
    ? https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) })
    : http.createServer();
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: Boolean(options.deflate),
    maxPayload: steps.MAX_SIZE,
  });
  let extensions = null;
  wss.on('headers', (headers) => {
    const line = headers.find((h) => h.toLowerCase().startsWith('sec-websocket-extensions:'));
    extensions = line ? line.slice(line.indexOf(':') + 1).trim() : null;
  });
  const connection = new Promise((resolve) => {
    wss.on('connection', (ws, request) => resolve({ conn: new steps.Connection(ws), path: request.url }));
  });
  server.listen(0, '127.0.0.1', () => steps.report({ event: 'listening', port: server.address().port }));
  const { conn, path } = await connection;
  steps.report({ event: 'open', path, extensions });
  return steps.runSteps(conn, script);
}

steps.main('server', run, steps.parseArgs(process.argv.slice(2), ['deflate']));
