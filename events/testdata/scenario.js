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
const isChange = (event) => event === 'newListener' || event === 'removeListener';

class Thrown extends Error {}

// Node's removeAllListeners walks the live listener array, so a
// 'removeListener' listener that (directly or through an emit) removes
// other listeners of the event being cleared makes it call removeListener
// with undefined, which throws ERR_INVALID_ARG_TYPE. nodekit walks a
// snapshot and removes them all. Such a scenario prints "skip" instead of
// its trace.
const skip = Symbol('skip');

async function runScenario(steps, out) {
  const ee = new EventEmitter();
  const handles = new Map();
  const ids = new Map(); // listener function -> id
  const warnings = [];
  let depth = 0; // nested actions
  const lines = [];
  const log = (line) => lines.push(line);
  const onWarning = (w) => {
    if (w.name === 'MaxListenersExceededWarning' && w.emitter === ee) {
      warnings.push(`warn ${name(w.type)} ${w.count}`);
    }
  };
  process.on('warning', onWarning);

  const add = (event, id, once, prepend, act) => {
    const fn = listener(id, act, isChange(event));
    fn.event = key(event);
    handles.set(id, fn);
    ids.set(fn, id);
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
    log(`emitted ${event} ${v} ${ee.emit(key(event), v)}`);
  };
  const removeAll = (event) => (event ? ee.removeAllListeners(key(event)) : ee.removeAllListeners());
  // A change listener is called with (event, listener) and logs them as
  // EVENT/L<id>; it acts as if its payload were 0. Node announces the removal
  // of a once listener from a list of several with its wrapper, whose
  // .listener is the function registered; nodekit has the one handle.
  function listener(id, act, change) {
    if (change) {
      return (type, l) => call(id, act, `${name(type)}/L${ids.get(l) ?? ids.get(l.listener)}`, 0);
    }
    return (v) => call(id, act, v, v);
  }
  function call(id, act, logged, v) {
    log(`L${id} ${logged}`);
    switch (act.kind) {
      case 'none': return;
      case 'throw': throw new Thrown(String(id));
    }
    // The other actions may call listeners again, this one too.
    if (depth === maxDepth) return;
    depth++;
    try {
      switch (act.kind) {
        case 'on': add(act.event, act.id, false, false, { kind: 'none' }); break;
        case 'off': off(act.id); break;
        case 'emit': emit(act.event, v + 100); break;
        case 'removeAll': removeAll(act.event); break;
        default: throw new Error(`unknown action ${act.kind}`);
      }
    } finally {
      depth--;
    }
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
        case 'names': {
          // Strings in order, then the Symbol; the change events last.
          const all = ee.eventNames().map(name);
          const names = all.filter((n) => !isChange(n)).concat(all.filter(isChange).sort());
          log(`names ${names.join(',')}`);
          break;
        }
        case 'setMax': ee.setMaxListeners(st.n ?? 0); break;
        default: throw new Error(`unknown op ${st.op}`);
      }
    } catch (err) {
      if (err instanceof Thrown) log(`threw L${err.message}`);
      else if (err.code === 'ERR_UNHANDLED_ERROR') log(`unhandled ${err.context}`);
      else if (err.code === 'ERR_INVALID_ARG_TYPE' && err.stack.includes('removeAllListeners')) {
        log(skip);
        break;
      } else throw err;
    }
  }
  // Warnings are emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('warning', onWarning);
  if (lines.includes(skip)) out.push('skip', '--');
  else out.push(...lines, ...warnings, '--');
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const out = [];
  for (const steps of JSON.parse(input)) await runScenario(steps, out);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => { console.error(err); process.exit(1); });
