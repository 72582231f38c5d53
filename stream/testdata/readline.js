// Reads a JSON array of cases from stdin, each an array of base64 chunks,
// and prints a JSON array with, per case, the lines Node's readline yields
// when the chunks come from a Readable one by one. crlfDelay: Infinity, as
// stream.Lines: a CR at the end of one chunk and an LF at the start of the
// next are one line end whatever the time between them.
const { Readable } = require('node:stream');
const readline = require('node:readline');

async function lines(chunks) {
  const input = Readable.from(chunks.map((c) => Buffer.from(c, 'base64')));
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  const out = [];
  for await (const line of rl) out.push(Buffer.from(line, 'utf8').toString('base64'));
  return out;
}

(async () => {
  let data = '';
  for await (const part of process.stdin) data += part;
  const results = [];
  for (const c of JSON.parse(data)) results.push(await lines(c));
  process.stdout.write(JSON.stringify(results));
})();
