// Runs timer scripts in Node, for timers' differential test
// (differential_test.go). It reads {"quantum": ms, "scripts": [...]} on
// stdin, where a script is {"Main": [action...], "Later": [action...]} as in
// model_test.go, runs every script at once on Node's one event loop, and
// prints each one's trace (callback names, one per line) followed by "--".
// Durations are multiples of the quantum (plus fractions of a millisecond,
// which Node truncates), so that every order the test compares is decided by
// Node's phases, not by timing jitter.
'use strict';

function runScript(sc, quantum, out) {
  const timers = [];
  let next = 0;
  let names = 0;

  function callback(name, self, runs) {
    let count = 0;
    return () => {
      out.push(name);
      if (runs > 0 && ++count === runs) clearTimeout(timers[self.i]);
      if (next < sc.Later.length) doAction(sc.Later[next++]);
    };
  }

  function doAction(a) {
    names++;
    const name = `${a.Kind}${names}`;
    switch (a.Kind) {
      case 'timeout':
      case 'interval': {
        const self = {};
        const fn = callback(name, self, a.Runs);
        const set = a.Kind === 'interval' ? setInterval : setTimeout;
        // Micros are fractions of a millisecond, which Node truncates.
        self.i = timers.push(set(fn, a.D * quantum + a.Micros / 1000)) - 1;
        break;
      }
      case 'immediate': setImmediate(callback(name, null, 0)); break;
      case 'tick': process.nextTick(callback(name, null, 0)); break;
      case 'micro': queueMicrotask(callback(name, null, 0)); break;
      case 'clear': if (timers.length) clearTimeout(timers[a.Target % timers.length]); break;
      case 'refresh': if (timers.length) timers[a.Target % timers.length].refresh(); break;
      case 'none': break;
      default: throw new Error(`unknown action ${a.Kind}`);
    }
  }

  for (const a of sc.Main) doAction(a);
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { quantum, scripts } = JSON.parse(input);
  const outs = scripts.map(() => []);
  scripts.forEach((sc, i) => runScript(sc, quantum, outs[i]));
  process.on('exit', () => {
    process.stdout.write(outs.map((o) => o.concat('--').join('\n')).join('\n') + '\n');
  });
});
