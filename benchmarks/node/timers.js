#!/usr/bin/env node
// Measures Node's own timers on the workloads of ../timers_test.go, as a
// reference point for github.com/nodekit/nodekit/timers: with 1,000,000 live
// 30-second timers (all but SetClear),
//
//   - BenchmarkNodeTimerCreate: setTimeout(noop, 30000). Every BATCH
//     creations the clock stops while the timers just created are cleared,
//     so between 1M and 1M+BATCH timers stay live.
//   - BenchmarkNodeTimerRefresh: timeout.refresh() of one of the live timers,
//     round robin.
//   - BenchmarkNodeTimerClear: clearTimeout() of one of the live timers, round
//     robin; every BATCH clears the clock stops while they are re-armed.
//   - BenchmarkNodeTimeoutSetClear: clearTimeout(setTimeout(noop, 1000))
//     with no other timer live (the 1M above are cleared by then).
//   - BenchmarkNodeTimerMemory: V8 heap bytes per live timer, the growth of
//     process.memoryUsage().heapUsed (after a full GC) from before the 1M
//     timers were armed to after. The array holding them is allocated
//     before the first reading, so it is not counted. It needs global.gc:
//     run node with --expose-gc, or this benchmark is skipped.
//
// Usage: node --expose-gc benchmarks/node/timers.js [count]
//
// The timers are first checked on the event loop (one fires, a refreshed one
// fires later, a cleared one never does), as TestTimerSetups does for the Go
// libraries, so no line measures a no-op; then each benchmark is timed as
// harness.js describes. The benchmarks run synchronously, so the event loop
// does not turn and no timer can fire meanwhile; every timer is cleared at
// the end, so the script exits at once.
'use strict';

const harness = require('./harness.js');

const opts = harness.options('node --expose-gc timers.js [count]');

const LIVE = 1000000; // live timers while each operation is measured
const TIMEOUT = 30000; // ms: no timer fires while the benchmarks run
const BATCH = 1 << 16; // operations between two untimed undo passes

// noop is the callback of every benchmarked timer, shared by all of them, as
// the Go benchmarks share one function.
function noop() {}

// arm returns an array of n live timers.
function arm(n) {
  const ts = new Array(n).fill(null);
  for (let i = 0; i < n; i++) ts[i] = setTimeout(noop, TIMEOUT);
  return ts;
}

function disarm(ts) {
  for (let i = 0; i < ts.length; i++) clearTimeout(ts[i]);
}

// Each benchmark's setup returns { run, done }: run(n) performs n operations
// and returns the nanoseconds of the timed part; done clears every timer.
// They are separate function literals so V8 keeps separate type feedback.
const benchmarks = [
  ['BenchmarkNodeTimerCreate', () => {
    const live = arm(LIVE);
    const extra = new Array(BATCH).fill(null);
    let j = 0;
    return {
      run(n) {
        let ns = 0n;
        while (n > 0) {
          const k = Math.min(n, BATCH - j);
          const t0 = process.hrtime.bigint();
          for (const end = j + k; j < end; j++) extra[j] = setTimeout(noop, TIMEOUT);
          ns += process.hrtime.bigint() - t0;
          n -= k;
          if (j === BATCH) { // untimed: back to LIVE timers
            for (let e = 0; e < BATCH; e++) clearTimeout(extra[e]);
            j = 0;
          }
        }
        return ns;
      },
      done() {
        for (let e = 0; e < j; e++) clearTimeout(extra[e]);
        disarm(live);
      },
    };
  }],
  ['BenchmarkNodeTimerRefresh', () => {
    const live = arm(LIVE);
    let i = 0;
    return {
      run(n) {
        const t0 = process.hrtime.bigint();
        for (let k = 0; k < n; k++) {
          live[i].refresh();
          if (++i === LIVE) i = 0;
        }
        return process.hrtime.bigint() - t0;
      },
      done() { disarm(live); },
    };
  }],
  ['BenchmarkNodeTimerClear', () => {
    const live = arm(LIVE);
    let i = 0;
    let j = 0;
    return {
      run(n) {
        let ns = 0n;
        while (n > 0) {
          const k = Math.min(n, BATCH - j);
          const t0 = process.hrtime.bigint();
          for (let c = 0; c < k; c++) {
            clearTimeout(live[i]);
            if (++i === LIVE) i = 0;
          }
          ns += process.hrtime.bigint() - t0;
          n -= k;
          j += k;
          if (j === BATCH) { // untimed: re-arm the BATCH timers just cleared
            for (let c = 0; c < BATCH; c++) {
              live[(i - BATCH + c + LIVE) % LIVE] = setTimeout(noop, TIMEOUT);
            }
            j = 0;
          }
        }
        return ns;
      },
      done() { disarm(live); },
    };
  }],
  ['BenchmarkNodeTimeoutSetClear', () => ({
    // No live timer: a 1 s timeout set and cleared at once on an idle loop.
    run(n) {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < n; k++) clearTimeout(setTimeout(noop, 1000));
      return process.hrtime.bigint() - t0;
    },
    done() {},
  })],
];

// memory measures the V8 heap bytes per live timer, with LIVE timers.
function memory() {
  const ts = new Array(LIVE).fill(null); // allocated before the reading
  global.gc();
  global.gc();
  const before = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < LIVE; i++) ts[i] = setTimeout(noop, TIMEOUT);
  const ns = process.hrtime.bigint() - t0;
  global.gc();
  const after = process.memoryUsage().heapUsed;
  disarm(ts);
  return { ns, perTimer: (after - before) / LIVE };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// check verifies on the event loop, with a short duration, that the
// operations benchmarked really arm, restart and cancel timers. Node keeps
// a timer's start as the loop's cached time, taken when the iteration began,
// and measures in whole milliseconds, so a timer may fire up to about 1 ms
// before d has passed by performance.now(): early allows for it.
async function check() {
  const d = 20;
  const early = 2;
  const fired = [[], [], []];
  const t0 = performance.now();
  setTimeout(() => fired[0].push(performance.now()), d);
  const refreshed = setTimeout(() => fired[1].push(performance.now()), d);
  const cleared = setTimeout(() => fired[2].push(performance.now()), d);
  await sleep(d / 2);
  const tr = performance.now();
  refreshed.refresh();
  clearTimeout(cleared);
  await sleep(3 * d);
  const problems = [];
  [1, 1, 0].forEach((want, i) => {
    if (fired[i].length !== want) problems.push(`timer ${i} fired ${fired[i].length} times, want ${want}`);
  });
  if (fired[0].length && fired[0][0] - t0 < d - early) {
    problems.push(`armed timer fired after ${(fired[0][0] - t0).toFixed(1)} ms, want at least ${d - early}`);
  }
  if (fired[1].length && fired[1][0] - tr < d - early) {
    problems.push(`refreshed timer fired ${(fired[1][0] - tr).toFixed(1)} ms after its refresh, want at least ${d - early}`);
  }
  if (problems.length) throw new Error(`check: ${problems.join('; ')}`);
}

async function main() {
  harness.header();
  await check();
  for (const [name, setup] of benchmarks) {
    const { run, done } = setup();
    harness.bench(name, run, opts);
    done();
  }
  if (typeof global.gc !== 'function') {
    console.error('BenchmarkNodeTimerMemory skipped: run node with --expose-gc');
    return;
  }
  for (let c = 0; c < opts.count; c++) {
    const { ns, perTimer } = memory();
    harness.report('BenchmarkNodeTimerMemory', 1, ns, `\t${perTimer.toFixed(2).padStart(10)} B/timer`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
