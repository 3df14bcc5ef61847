'use strict';
// The step interpreter shared by the Node interop server and client: the
// same script language and JSON-lines reports as ../python/steps.py (read
// its docstring for the steps and payloads). `ws` does not expose the
// fragments of a message it receives, so `echo` reports `fragments: null`.

const crypto = require('crypto');

// Limits raised for the 16 MiB scenarios.
const MAX_SIZE = 64 * 1024 * 1024;

function report(event) {
  // Writes to a pipe are synchronous on POSIX: nothing is lost at exit.
  process.stdout.write(JSON.stringify(event) + '\n');
}

function makePayload(spec) {
  if (spec.kind === 'text') {
    return { binary: false, data: Buffer.from(spec.unit.repeat(spec.repeat)) };
  }
  if (spec.fill === 'random') {
    return { binary: true, data: crypto.randomBytes(spec.len) };
  }
  const data = Buffer.alloc(spec.len);
  for (let i = 0; i < spec.len; i++) data[i] = i & 0xff;
  return { binary: true, data };
}

function describe(binary, data) {
  const described = {
    kind: binary ? 'binary' : 'text',
    len: data.length,
    sha1: crypto.createHash('sha1').update(data).digest('hex'),
  };
  if (data.length <= 64) described.preview = data.toString('hex');
  return described;
}

// A queue over ws's events, so that steps can await messages, pongs and
// the close one at a time. Create it as soon as the WebSocket exists: ws
// emits the frames that came with the handshake in the same tick as
// 'open' / 'connection', before any later listener could see them.
class Connection {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.pongs = [];
    this.closed = null;
    this.wake = null;
    ws.on('message', (data, isBinary) => this.push(this.messages, { binary: isBinary, data }));
    ws.on('pong', (data) => this.push(this.pongs, data));
    ws.on('ping', (data) => report({ event: 'ping', data: data.toString('hex') }));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
    ws.on('error', (error) => report({ event: 'ws-error', error: String(error) }));
  }

  push(queue, item) {
    queue.push(item);
    this.notify();
  }

  notify() {
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
  }

  // Resolves with the first item of `queue`, or the close if none comes.
  async next(queue) {
    for (;;) {
      if (queue.length > 0) return { item: queue.shift() };
      if (this.closed) return { closed: this.closed };
      await new Promise((resolve) => {
        this.wake = resolve;
      });
    }
  }

  send(data, options) {
    return new Promise((resolve, reject) => {
      this.ws.send(data, options, (error) => (error ? reject(error) : resolve()));
    });
  }
}

async function runStep(index, step, conn) {
  switch (step.op) {
    case 'echo': {
      const { item, closed } = await conn.next(conn.messages);
      if (closed) throw new Error(`closed while waiting for a message: ${JSON.stringify(closed)}`);
      report({ step: index, event: 'recv', fragments: null, ...describe(item.binary, item.data) });
      await conn.send(item.data, { binary: item.binary });
      report({ step: index, event: 'sent', fragments: 1, ...describe(item.binary, item.data) });
      break;
    }
    case 'send': {
      const { binary, data } = makePayload(step.payload);
      const size = step.fragment || Math.max(data.length, 1);
      let fragments = 0;
      // Text fragments are cut at byte offsets, inside characters too: the
      // receiver has to validate UTF-8 across frames.
      for (let at = 0; at < data.length || fragments === 0; at += size) {
        const piece = data.subarray(at, at + size);
        await conn.send(piece, { binary, fin: at + size >= data.length });
        fragments += 1;
      }
      report({ step: index, event: 'sent', fragments, ...describe(binary, data) });
      break;
    }
    case 'ping': {
      const data = Buffer.from(step.data, 'hex');
      conn.ws.ping(data);
      const { item, closed } = await conn.next(conn.pongs);
      if (closed) throw new Error(`closed while waiting for a pong: ${JSON.stringify(closed)}`);
      report({ step: index, event: 'pong', data: item.toString('hex') });
      break;
    }
    case 'close': {
      conn.ws.close(step.code, step.reason);
      const { closed } = await conn.next([]);
      report({ step: index, event: 'closed', code: closed.code, reason: closed.reason });
      break;
    }
    case 'wait_close': {
      const { item, closed } = await conn.next(conn.messages);
      if (item) throw new Error(`expected a Close, got a message: ${JSON.stringify(describe(item.binary, item.data))}`);
      report({ step: index, event: 'closed', code: closed.code, reason: closed.reason });
      break;
    }
    case 'none':
      report({ step: index, event: 'idle' });
      break;
    default:
      throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}

// Runs every step on a Connection; true when all succeeded. A failure is
// reported with its step index.
async function runSteps(conn, steps) {
  for (const [index, step] of steps.entries()) {
    try {
      await runStep(index, step, conn);
    } catch (error) {
      report({ step: index, event: 'error', error: String(error && error.stack ? error.stack : error) });
      return false;
    }
  }
  return true;
}

// Command-line options: `--name value` pairs and `--flag`s; other
// arguments are positional.
function parseArgs(argv, flags) {
  const options = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) options.positional.push(arg);
    else if (flags.includes(arg.slice(2))) options[arg.slice(2)] = true;
    else options[arg.slice(2)] = argv[++i];
  }
  if (!options.steps) throw new Error('--steps JSON is required');
  return options;
}

// Runs `run(options, script)` within `--timeout` seconds and exits 0 only
// when every step succeeded.
function main(role, run, options) {
  const seconds = Number(options.timeout || 60);
  setTimeout(() => {
    report({ event: 'error', error: `${role} timed out after ${seconds} s` });
    process.exit(1);
  }, seconds * 1000).unref();
  run(options, JSON.parse(options.steps)).then(
    (ok) => {
      if (ok) report({ event: 'done' });
      process.exit(ok ? 0 : 1);
    },
    (error) => {
      report({ event: 'error', error: String(error && error.stack ? error.stack : error) });
      process.exit(1);
    },
  );
}

module.exports = { MAX_SIZE, Connection, report, runSteps, parseArgs, main };
