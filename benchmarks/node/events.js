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
// Each benchmark is warmed up (so V8 has optimized it) and then timed like
// `go test -bench`: the iteration count grows until one timed run lasts at
// least BENCHTIME ms (default 1000), and the line printed is
// "BenchmarkName  N  X ns/op", so benchstat can read it. count (default 1)
// repeats every measurement, like go test -count. Node is single-threaded, so
// there is no counterpart of BenchmarkEmitParallel.
'use strict';

const { EventEmitter } = require('node:events');

const count = Number(process.argv[2] ?? 1);
const benchtimeNs = BigInt(Number(process.env.BENCHTIME ?? 1000) * 1e6);
const warmupNs = 300n * 1000000n;
if (!Number.isInteger(count) || count < 1) {
  console.error('usage: node events.js [count]');
  process.exit(2);
}

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

function time(run, n) {
  const t0 = process.hrtime.bigint();
  run(n);
  return process.hrtime.bigint() - t0;
}

// measure finds N as the Go testing package does: grow N from 1, predicting
// from the last run, until one run of N iterations lasts benchtime.
function measure(run, target) {
  let n = 1;
  let ns = time(run, n);
  while (ns < target && n < 1e9) {
    const perOp = Number(ns) / n || 1;
    let next = Math.ceil((Number(target) * 1.2) / perOp);
    next = Math.max(Math.min(next, n * 100), n + 1);
    n = next;
    ns = time(run, n);
  }
  return { n, ns };
}

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

console.log(`node: ${process.version}`);
console.log(`cpu: ${require('node:os').cpus()[0]?.model ?? 'unknown'}`);
for (const [name, setup, listeners] of benchmarks) {
  check(name, setup, listeners);
  const run = setup();
  measure(run, warmupNs); // warm-up: let V8 optimize run and the emitter
  for (let c = 0; c < count; c++) {
    const { n, ns } = measure(run, benchtimeNs);
    console.log(`${name}\t${String(n).padStart(10)}\t${(Number(ns) / n).toFixed(2).padStart(10)} ns/op`);
  }
}
if (Number.isNaN(sink)) console.log(sink); // keep sink observable
