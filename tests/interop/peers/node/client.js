'use strict';
// The `ws` interop client: connects to the URL it is given, runs the script
// (steps.js), then exits (0 when every step succeeded).
//
//   node client.js URL --steps JSON [--deflate] [--ca PEM] [--timeout S]

const fs = require('fs');
const WebSocket = require('ws');
const steps = require('./steps');

async function run(options, script) {
  const ws = new WebSocket(options.positional[0], {
    perMessageDeflate: Boolean(options.deflate),
    maxPayload: steps.MAX_SIZE,
    ca: options.ca ? fs.readFileSync(options.ca) : undefined,
  });
  const conn = new steps.Connection(ws);
  let extensions = null;
  ws.on('upgrade', (response) => {
    extensions = response.headers['sec-websocket-extensions'] || null;
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  steps.report({ event: 'open', extensions });
  return steps.runSteps(conn, script);
}

steps.main('client', run, steps.parseArgs(process.argv.slice(2), ['deflate']));
