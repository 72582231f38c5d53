// The ordering scenario of TestPhaseOrder, for Node: `node testdata/order.js`.
const out = [];
const log = (s) => out.push(s);
setImmediate(() => {
  log('imm1');
  process.nextTick(() => log('tick in imm1'));
  Promise.resolve().then(() => log('micro in imm1'));
  setImmediate(() => log('imm3 (queued during check)'));
});
setImmediate(() => log('imm2'));
queueMicrotask(() => { log('micro1'); process.nextTick(() => log('tick from micro1')); queueMicrotask(() => log('micro from micro1')); });
process.nextTick(() => { log('tick1'); queueMicrotask(() => log('micro from tick1')); process.nextTick(() => log('tick from tick1')); });
setTimeout(() => {
  log('t10');
  setTimeout(() => log('t10->0'), 0);
  setImmediate(() => log('t10->imm'));
}, 10);
setTimeout(() => log('t20a'), 20);
setTimeout(() => log('t20b'), 20);
const iv = setInterval(() => { log('iv'); if (out.filter(x => x==='iv').length === 3) clearInterval(iv); }, 30);
setTimeout(() => console.log(out.join('\n')), 200);
