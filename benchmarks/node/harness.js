// The timing harness the scripts here share: each measures one of Node's
// modules on the workloads of a Go benchmark file and prints lines that
// benchstat reads next to go test's.
//
// Each benchmark is warmed up (so V8 has optimized it) and then timed like
// `go test -bench`: the iteration count grows until the timed part of one
// run lasts at least BENCHTIME ms (default 1000), and the line printed is
// "BenchmarkName  N  X ns/op". The script's first argument, count (default
// 1), repeats every measurement, like go test -count.
'use strict';

const os = require('node:os');

const warmupNs = 300n * 1000000n;

// options reads count from the command line (exiting with usage when it is
// not a whole number of at least 1) and BENCHTIME from the environment.
function options(usage) {
  const count = Number(process.argv[2] ?? 1);
  if (!Number.isInteger(count) || count < 1) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { count, benchtimeNs: BigInt(Number(process.env.BENCHTIME ?? 1000) * 1e6) };
}

// header prints what go test prints before its results.
function header() {
  console.log(`node: ${process.version}`);
  console.log(`cpu: ${os.cpus()[0]?.model ?? 'unknown'}`);
}

// timed turns run(n), which performs n operations, into a function that
// returns the nanoseconds they took.
function timed(run) {
  return (n) => {
    const t0 = process.hrtime.bigint();
    run(n);
    return process.hrtime.bigint() - t0;
  };
}

// measure finds N as the Go testing package does: grow N from 1, predicting
// from the last run, until the timed part of one run of N operations lasts
// target. run(n) returns the nanoseconds of its timed part.
function measure(run, target) {
  let n = 1;
  let ns = run(n);
  while (ns < target && n < 1e9) {
    const perOp = Number(ns) / n || 1;
    let next = Math.ceil((Number(target) * 1.2) / perOp);
    next = Math.max(Math.min(next, n * 100), n + 1);
    n = next;
    ns = run(n);
  }
  return { n, ns };
}

// report prints one result line; extra holds further "\tX unit" metrics.
function report(name, n, ns, extra = '') {
  console.log(`${name}\t${String(n).padStart(10)}\t${(Number(ns) / n).toFixed(2).padStart(10)} ns/op${extra}`);
}

// bench warms run up, then prints count measurements of it.
function bench(name, run, { count, benchtimeNs }) {
  measure(run, warmupNs);
  for (let c = 0; c < count; c++) {
    const { n, ns } = measure(run, benchtimeNs);
    report(name, n, ns);
  }
}

module.exports = { options, header, timed, measure, report, bench };
