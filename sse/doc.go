// Package sse serves and reads Server-Sent Events: what a Node server does
// with res.write('data: …\n\n') on a text/event-stream response, and what a
// browser's EventSource does with it.
//
//	var b sse.Broker                                                   // a set of streams per topic
//	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
//		b.Subscribe(w, r, "ticks")                                 // res.writeHead(200, …); clients.add(res)
//	})
//	b.PublishJSON(ctx, "ticks", sse.Event{Type: "tick"}, tick)        // for (res of clients) res.write(…)
//
//	for ev, err := range (&sse.Client{}).Events(ctx, url) { … }       // new EventSource(url)
//
// The package has four parts, each usable alone.
//
// # Encoding
//
// AppendEvent and AppendComment append the wire form of an event or a
// comment to a buffer, as the WHATWG HTML standard defines it: Data is
// split on CR, LF and CRLF into data: lines, so no line break in the data
// can start a field of its own; an ID or Type with CR or LF (or an ID with
// NUL) is an error wrapping ErrInvalidField, never written; an event has
// no id: line unless it names one. Appending into a reused buffer
// allocates nothing.
//
// # Writer
//
// Upgrade (or an Upgrader, for a retry: line and a write timeout) turns an
// http.ResponseWriter into a Writer. It reaches the flusher through
// http.NewResponseController, so it works behind wrappers that implement
// Unwrap (chi's and alice's middleware, nodekit's middleware.App) and over
// HTTP/2, and fails with ErrFlushUnsupported before writing anything when
// there is no flusher. It sends Content-Type: text/event-stream,
// Cache-Control: no-cache and X-Accel-Buffering: no and flushes them at
// once, so that the browser's open event fires before the first event. It
// clears the server's write deadline for the stream (a server WriteTimeout
// would otherwise cut every stream) and puts WriteTimeout on each write and
// flush instead, so a peer that stopped reading fails the write within
// that time rather than holding a goroutine forever; after a failure, or
// once the request's context ends, every call returns ErrClosed.
//
// # Broker
//
// A Broker keeps the streams of named topics, as a Node server keeps a set
// of responses per channel. Subscribe serves one request as a stream of a
// topic; Publish, from any goroutine, appends an event to the topic's
// replay window (a Store; MemoryStore by default) and queues it, encoded
// once, for every subscriber. Each stream's goroutine writes everything
// queued for it with one flush. Publish never waits for a subscriber: a
// subscriber whose queue (QueueSize) is full is dealt with by the broker's
// SlowPolicy. The default, Disconnect, ends that stream; the client
// reconnects with Last-Event-ID and Subscribe replays what it missed from
// the window, strictly after that ID, registered at the same instant as
// the subscriber so that nothing falls between replay and live events. A
// client whose ID is unknown or older than the window gets one event of
// type ResetType instead, and should reload its state. Heartbeat comments
// keep idle streams open through proxies; Shutdown ends every stream so
// that http.Server.Shutdown can finish. Store is the seam for a window
// shared by several processes.
//
// Last-Event-ID is untrusted input: it is looked up only when it is at
// most 256 bytes of UTF-8 without CR, LF or NUL, and Publish refuses IDs a
// client could not send back intact.
//
// # Decoder and Client
//
// A Decoder parses an event stream exactly as the standard says and as
// Chromium's EventSource does (checked against Chromium with the vectors
// in testdata and by a browser test): a leading BOM, CR, LF and CRLF line
// ends (also split across reads), comments, one optional space after the
// colon, fields without a colon, an id with NUL ignored, an empty id
// resetting the last event ID, retry with digits only, an id-only block
// dispatching nothing, an unterminated event at the end dropped, invalid
// UTF-8 replaced with U+FFFD per maximal invalid subsequence. A line or
// event larger than MaxEventSize is an error wrapping ErrTooLarge.
//
// A Client is an EventSource for Go: Events yields the events of a URL and
// reconnects after the retry time (with jitter, and backoff while
// attempts deliver nothing), sending Last-Event-ID; a response a browser
// would not retry (not 200, or not text/event-stream) ends it with an
// error wrapping ErrStatus.
//
// # Costs
//
// Measured on a 2-core machine (benchmarks/results/sse.txt has the runs
// beside tmaxmax/go-sse, r3labs/sse and a plain channel hub): encoding an
// event allocates nothing; a Publish allocates twice (the ID and the
// frame) and nothing per subscriber; one publisher reaches 1000 loopback
// subscribers at about 9 million deliveries a second, every event
// delivered once and in order; an idle subscriber costs about 650 bytes
// of heap beyond the cheapest streaming handler on net/http, and its
// handler goroutine keeps a 4 KiB stack (writes run on short-lived
// goroutines, as net/http's write path would grow it to 8 KiB for good):
// about 22 KiB a connection in all, as tmaxmax/go-sse.
package sse
