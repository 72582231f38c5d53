#!/usr/bin/env node
// Measures Node's own EventEmitter on the workloads of ../events_test.go, as a
// reference point for github.com/nodekit/nodekit/events:
//
//   - BenchmarkNodeEmit/listeners=1 and listeners=10: one emit of 'tick' with
//     an integer payload; every listener adds it to a module-level counter
//     (the Go benchmarks' addInt).
//   - BenchmarkNodeOnOff: on() then off() of one listener on an event that
//     already has one listener.
//
// Usage: node benchmarks/node/events.js [count]
//
// Timed as harness.js describes. Node is single-threaded, so there is no
// counterpart of BenchmarkEmitParallel.
'use strict';

const { EventEmitter } = require('node:events');
const harness = require('./harness.js');

const opts = harness.options('node events.js [count]');

const payload = 1;
let sink = 0;

function addInt(v) { sink += v; }
function subInt(v) { sink -= v; }

function emitter(listeners) {
  const e = new EventEmitter();
  for (let i = 0; i < listeners; i++) {
    // A separate closure per listener, as the Go benchmarks register
    // listeners; Node would call the same function twice anyway.
    e.on('tick', (v) => addInt(v));
  }
  return e;
}

// Each benchmark is a function (n) => void running its operation n times.
// They are separate function literals so V8 keeps separate type feedback.
const benchmarks = [
  ['BenchmarkNodeEmit/listeners=1', () => {
    const e = emitter(1);
    return (n) => { for (let i = 0; i < n; i++) e.emit('tick', payload); };
  }, 1],
  ['BenchmarkNodeEmit/listeners=10', () => {
    const e = emitter(10);
    return (n) => { for (let i = 0; i < n; i++) e.emit('tick', payload); };
  }, 10],
  ['BenchmarkNodeOnOff', () => {
    const e = emitter(1);
    return (n) => {
      for (let i = 0; i < n; i++) {
        e.on('tick', subInt);
        e.off('tick', subInt);
      }
    };
  }, null],
];

// check verifies that the listeners really run as many times as expected, as
// TestListenersRun does for the Go libraries, so no line measures a no-op.
function check(name, setup, listeners) {
  const run = setup();
  const before = sink;
  run(100);
  const got = sink - before;
  const want = listeners === null ? 0 : 100 * listeners * payload;
  if (got !== want) {
    throw new Error(`${name}: listeners added ${got}, want ${want}`);
  }
  if (listeners === null) { // on/off: the original listener alone is left
    const e = emitter(1);
    for (let i = 0; i < 100; i++) { e.on('tick', subInt); e.off('tick', subInt); }
    if (e.listenerCount('tick') !== 1) throw new Error(`${name}: listener leaked`);
  }
}

harness.header();
for (const [name, setup, listeners] of benchmarks) {
  check(name, setup, listeners);
  harness.bench(name, harness.timed(setup()), opts);
}
if (Number.isNaN(sink)) console.log(sink); // keep sink observable
