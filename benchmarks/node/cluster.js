#!/usr/bin/env node
// Node's cluster hello server, the counterpart of examples/prefork that
// ../cluster_test.go measures it against: the primary forks the workers,
// which share one port (Node's default round-robin scheduling: the primary
// accepts and hands the connections out), and forks a new worker whenever
// one exits — the cluster.on('exit') → cluster.fork() of Node's docs, with
// no backoff and no crash-loop limit.
//
// Usage: node benchmarks/node/cluster.js [port] [workers]
//
// port 0 (the default) picks a free port, shared by every worker; workers
// defaults to os.availableParallelism(). GET / answers "hello from worker 2
// (pid 12345)". The primary prints, as examples/prefork does:
//
//	primary PID: http://127.0.0.1:PORT/ with N workers
//	worker ID (pid PID) ready
//	worker ID (pid PID) exited: signal SIGKILL
//
// SIGTERM or SIGINT to the primary stops the workers (they finish their
// requests) and then the primary.
'use strict';

const cluster = require('node:cluster');
const http = require('node:http');
const os = require('node:os');

const port = Number(process.argv[2] ?? 0);
const workers = Number(process.argv[3] ?? os.availableParallelism());
if (!Number.isInteger(port) || port < 0 || !Number.isInteger(workers) || workers < 1) {
  console.error('usage: node cluster.js [port] [workers]');
  process.exit(2);
}

if (cluster.isPrimary) {
  let stopping = false;
  let announced = false;
  const live = new Set(); // the workers not yet exited
  const fork = () => live.add(cluster.fork());
  cluster.on('listening', (worker, address) => {
    if (!announced) {
      announced = true;
      console.log(`primary ${process.pid}: http://127.0.0.1:${address.port}/ with ${workers} workers`);
    }
    console.log(`worker ${worker.id} (pid ${worker.process.pid}) ready`);
  });
  cluster.on('exit', (worker, code, signal) => {
    console.log(`worker ${worker.id} (pid ${worker.process.pid}) exited: ${signal ? `signal ${signal}` : `code ${code}`}`);
    live.delete(worker);
    if (!stopping) {
      fork();
    } else if (live.size === 0) {
      console.log('primary: all workers stopped');
      process.exit(0);
    }
  });
  const stop = () => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    for (const worker of live) {
      worker.disconnect();
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let i = 0; i < workers; i++) {
    fork();
  }
} else {
  http.createServer((req, res) => {
    res.end(`hello from worker ${cluster.worker.id} (pid ${process.pid})\n`);
  }).listen(port, '127.0.0.1');
}
