// recorder.js opens the EventSources that config.json lists and records
// every open, message and error event (with readyState, and the virtual
// time it fired at) into the <pre id="result"> as JSON, for a Go test to
// read back from Chromium's --dump-dom output.
//
// config.json is a list of streams:
//   {"name": "...", "url": "...", "types": ["custom", ...],
//    "ack": "/url" or "", "closeOn": "type" or ""}
// types: event types to listen for besides "message"; ack: a URL POSTed
// the lastEventId of each message once it is recorded (so the server knows
// what the browser has); closeOn: an event type after which the page calls
// close().
"use strict";

const results = {};
let open = 0;

// ascii is JSON.stringify with every non-ASCII character escaped.
function ascii(v) {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

function show() {
  document.getElementById("result").textContent = ascii(results);
  document.getElementById("done").textContent = open === 0 ? "closed" : "";
}

function record(stream) {
  const log = [];
  results[stream.name] = log;
  open++;
  const es = new EventSource(stream.url);
  let closed = false;
  const finish = () => {
    if (!closed) {
      closed = true;
      open--;
    }
  };
  es.addEventListener("open", () => {
    log.push({kind: "open", readyState: es.readyState, t: performance.now()});
    show();
  });
  es.addEventListener("error", () => {
    log.push({kind: "error", readyState: es.readyState, t: performance.now()});
    if (es.readyState === EventSource.CLOSED) finish();
    show();
  });
  const onMessage = (e) => {
    log.push({kind: "message", type: e.type, data: e.data, lastEventId: e.lastEventId});
    if (stream.ack) {
      fetch(stream.ack, {method: "POST", body: e.lastEventId});
    }
    if (stream.closeOn && e.type === stream.closeOn) {
      es.close();
      log.push({kind: "close", readyState: es.readyState});
      finish();
    }
    show();
  };
  for (const type of new Set(["message", ...(stream.types || [])])) {
    es.addEventListener(type, onMessage);
  }
}

fetch("config.json")
  .then((r) => r.json())
  .then((streams) => {
    streams.forEach(record);
    show();
  })
  .catch((err) => {
    document.getElementById("failure").textContent = String(err);
  });
