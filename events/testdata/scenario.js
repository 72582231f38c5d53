// Runs emitter scenarios in Node, for events' differential test
// (differential_test.go). It reads a JSON array of scenarios on stdin and
// prints each one's trace followed by a line "--". The language and the
// trace format are those of scenario_test.go; keep the two in step.
'use strict';
const EventEmitter = require('events');
const { errorMonitor } = EventEmitter;

const maxDepth = 3;
const key = (event) => (event === 'monitor' ? errorMonitor : event);
const name = (k) => (k === errorMonitor ? 'monitor' : k);

class Thrown extends Error {}

async function runScenario(steps, out) {
  const ee = new EventEmitter();
  const handles = new Map();
  const warnings = [];
  let depth = 0;
  const log = (line) => out.push(line);
  const onWarning = (w) => {
    if (w.name === 'MaxListenersExceededWarning' && w.emitter === ee) {
      warnings.push(`warn ${name(w.type)} ${w.count}`);
    }
  };
  process.on('warning', onWarning);

  const add = (event, id, once, prepend, act) => {
    const fn = listener(id, act);
    fn.event = key(event);
    handles.set(id, fn);
    const method = prepend ? (once ? 'prependOnceListener' : 'prependListener') : (once ? 'once' : 'on');
    ee[method](key(event), fn);
  };
  const off = (id) => {
    const fn = handles.get(id);
    const had = fn !== undefined && ee.rawListeners(fn.event).some((l) => l === fn || l.listener === fn);
    if (fn !== undefined) ee.off(fn.event, fn);
    log(`off L${id} ${had}`);
  };
  const emit = (event, v) => {
    log(`emit ${event} ${v}`);
    depth++;
    try {
      log(`emitted ${event} ${v} ${ee.emit(key(event), v)}`);
    } finally {
      depth--;
    }
  };
  const removeAll = (event) => (event ? ee.removeAllListeners(key(event)) : ee.removeAllListeners());
  function listener(id, act) {
    const fn = (v) => {
      log(`L${id} ${v}`);
      switch (act.kind) {
        case 'none': break;
        case 'on': add(act.event, act.id, false, false, { kind: 'none' }); break;
        case 'off': off(act.id); break;
        case 'emit': if (depth < maxDepth) emit(act.event, v + 100); break;
        case 'removeAll': removeAll(act.event); break;
        case 'throw': throw new Thrown(String(id));
        default: throw new Error(`unknown action ${act.kind}`);
      }
    };
    return fn;
  }

  for (const st of steps) {
    try {
      switch (st.op) {
        case 'on': case 'once': case 'prepend': case 'prependOnce': {
          add(st.event, st.id, st.op.endsWith('nce'), st.op.startsWith('prepend'), st.act);
          break;
        }
        case 'off': off(st.id); break;
        case 'emit': emit(st.event, st.n ?? 0); break;
        case 'removeAll': removeAll(st.event); break;
        case 'count': log(`count ${st.event} ${ee.listenerCount(key(st.event))}`); break;
        case 'names': log(`names ${ee.eventNames().map(name).join(',')}`); break;
        case 'setMax': ee.setMaxListeners(st.n ?? 0); break;
        default: throw new Error(`unknown op ${st.op}`);
      }
    } catch (err) {
      if (err instanceof Thrown) log(`threw L${err.message}`);
      else if (err.code === 'ERR_UNHANDLED_ERROR') log(`unhandled ${err.context}`);
      else throw err;
    }
  }
  // Warnings are emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  out.push(...warnings, '--');
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const out = [];
  for (const steps of JSON.parse(input)) await runScenario(steps, out);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => { console.error(err); process.exit(1); });
