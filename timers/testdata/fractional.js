// Runs the cases of timers' TestFractionalDelaysMatchNode (differential_test.go)
// in Node. It reads a JSON array of cases on stdin, each an array of
// setTimeout durations in milliseconds (fractions, zero, negative and
// overflowing ones included), runs the cases one after another, and prints,
// for each, the indices of its timeouts in the order they ran, one case a
// line. Node warns about the overflowing ones on stderr.
'use strict';

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const lines = [];
  const next = (i) => {
    if (i === cases.length) {
      process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    const order = [];
    let left = cases[i].length;
    cases[i].forEach((ms, k) => setTimeout(() => {
      order.push(k);
      if (--left === 0) {
        lines.push(order.join(','));
        setImmediate(() => next(i + 1));
      }
    }, ms));
  };
  next(0);
});
