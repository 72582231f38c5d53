// Package stream gives Go programs what Node's streams are relied on for:
// backpressure (a fast producer waits for a slow consumer, and memory stays
// bounded), operators that run concurrently and still keep order
// (readable.map(fn, {concurrency})), a writable side for producers that
// push, a pipeline that stops every stage at the first error and waits for
// all of them, and bridges to io.Reader and io.Writer so that files, gzip
// and HTTP bodies compose in.
//
//	lines := stream.Lines(file)                                     // readline
//	recs := stream.MapConcurrent(ctx, lines, 8, parse)              // readable.map(parse, {concurrency: 8})
//	bad := stream.Filter(recs, func(r Rec) bool { return r.Status >= 500 })
//	n, err := stream.WriteTo(stream.Map(bad, Rec.JSON), out)        // pipeline(…, out)
//
// # Streams
//
// A Stream[T] is a push iterator, iter.Seq2[T, error], with one rule: a
// non-nil error is its last element (paired with T's zero value). Range it
// with for v, err := range s, or hand it to a sink — Collect, ForEach,
// Drain, WriteTo — which returns the error, so that it is hard to ignore.
//
// Sequential stages (Map, Filter, FlatMap, Take, Tap, Batch) are plain push
// iterators: they run on the goroutine that ranges the stream and cost no
// goroutine and no allocation per element. Measured on the issue's
// machine, three chained iter.Seq2 stages cost 15–19 ns per element, a
// hop through a buffered channel 65–130 ns and iter.Pull 90–250 ns; here a
// source, Map, Filter and Map run at about 6 ns per element (bench_test.go).
// So goroutines appear only where concurrency is the point:
// MapConcurrent, FilterConcurrent and ForEachConcurrent (n workers and a
// reader), BatchTimeout (a reader, as a time limit needs one), Reader
// (iter.Pull, as io.Reader pulls) and Pipeline (a goroutine per stage).
//
// Breaking out of a range stops the stream: every stage returns, and every
// goroutine a stage started has exited before the range statement ends. A
// goroutine that ranges a stage's source (a concurrent operator's reader,
// BatchTimeout's) can only leave that source when the source hands over
// its next element or ends, so stopping waits for that: give a source that
// can wait a long time (FromChan, a Pipe's Stream) a context that ends
// when you stop, as a Pipeline stage's does.
//
// Ranging a Stream twice is defined. Streams over values (Of, FromSlice,
// FromSeq, Generate) run again from the start, and so do the stages built
// on them. Streams over something that reading consumes (FromChan, Lines,
// Chunks, a Pipe's Stream) can be ranged once: a later range yields one
// element, ErrConsumed, rather than nothing, which would look like an
// empty input. (A first range that stopped early may have read ahead: the
// lines left in Lines' buffer, for instance, cannot be handed to another
// range.)
//
// # Concurrency
//
// The concurrent operators follow Node's readable.map(fn, {concurrency:
// n, highWaterMark}): results come in the order of the source by default
// (Unordered hands each out as soon as it is ready), and at most n+k
// elements are taken from the source and not yet handed to the consumer,
// where k is the HighWaterMark, n-1 by default as in Node: 2n-1 in all.
// The window is exact (TestMapConcurrentWindow): the reader takes a token
// before it asks the source for an element, the consumer gives it back
// when it takes the result. Per element that is three channel transfers
// and no allocation: about 1.2× the time of a hand-written ordered channel
// pipeline built the same way, and faster than the usual channel of
// result channels (bench_test.go).
//
// An error ends the stream at its place. In order, that is the error of the
// earliest element that failed, after the results before it, as Node
// reports it (checked against Node: with elements 1 and 3 failing, 3
// first, Node's map rejects with 1's error) and as the sequential Map
// would: MapConcurrent in order gives exactly Map's output, for any
// timing (TestMapConcurrentProperties). Once an element has failed, no
// element after it is started. Unordered, the first error to happen ends the stream, after the
// results finished before it. The source's error comes after the results
// of everything taken before it. The end of the stream, for any reason,
// cancels the context the calls of fn get.
//
// # Panics and runtime.Goexit
//
// Code that runs on the goroutine ranging a stream (sequential stages,
// sinks' functions, the loop body) panics as any Go code does: through the
// range statement, to you. Code the package runs on its own goroutines —
// the concurrent operators' fn, the stages of a source that a concurrent
// operator or BatchTimeout reads, Pipeline's stages — has nobody above it,
// so a panic there becomes the error at that element's place: a
// *PanicError with the panic value and the stack of the goroutine that
// panicked, the same type as workerpool.PanicError and timers.PanicError.
// A runtime.Goexit there (t.FailNow) becomes ErrGoexit, and a worker that
// exits is replaced, so the stream still ends. The panic is returned, not
// re-raised on your goroutine, because the stream's error is already the
// place where a range loop or a sink looks, the panicking goroutine's
// stack is kept (a re-raised panic prints the stack of the re-raise), and
// the clean-up after it is the same as after any error. A panic that can
// no longer be the stream's error — it happens after the consumer broke
// out, or after an earlier error ended the stream — is re-raised by the
// range statement (or by ForEachConcurrent) once every goroutine has
// exited; Pipeline joins it to its error: a panic is never swallowed.
//
// # Contexts
//
// Every operator that can wait takes a context, with one meaning: when it
// ends, the stream ends with ctx.Err() as its last element, and an already
// ended context is seen before any element, every time (a select with
// several ready cases would answer at random).
//
// # Pipe and Pipeline
//
// A Pipe is the writable side, Node's PassThrough in object mode: Write
// blocks while highWaterMark values wait (write() returning false, then
// 'drain'), Close and CloseWithError end it, Done and Err are
// stream.finished. The reader ranges p.Stream(ctx): it takes a context so
// that a reading stage ends when the writing stage fails without closing
// the Pipe (TestPipelineProducerFailsWithoutClosing); without one, such a
// Pipeline would never return. A reader that stops early makes later
// Writes fail with ErrStopped, and the Pipe drops what was waiting. Feed
// writes a stream into a Pipe and closes it with the outcome:
// readable.pipe(writable) as one stage.
//
// Pipeline runs each stage on its own goroutine with a shared context: the
// first failure cancels it, and Pipeline returns that failure once every
// stage has returned. It is errgroup.WithContext with three differences,
// which is why it does not use errgroup: a stage's runtime.Goexit is a
// failure (errgroup loses it, and the stages waiting on that one wait
// forever), a panic is a failure (errgroup lets it crash the program), and
// ErrStopped is not one (it is how a writer learns that its reader has
// finished early, as head does to a pipe in a shell; the reader reports
// its own reason, if it has one).
//
// # Bytes and lines
//
// Chunks reads fixed-size chunks (every chunk but the last has exactly the
// size; Node's have whatever each read returned), each in its own slice
// that is never written again, so the consumer may keep any of them.
// WriteTo writes a stream of chunks to an io.Writer; Reader is the other
// way, an io.ReadCloser over a stream of chunks; NewWriter is an
// io.WriteCloser that writes copies of its bytes into a Pipe. With them,
// gzip.NewWriter, gzip.NewReader, files and HTTP bodies sit anywhere in a
// pipeline.
//
// Lines splits as Node's readline does, checked against Node
// (TestLinesAgainstNode): LF, CR and CRLF end a line, the last line needs
// no line end, and an empty input has no lines. A CR at the end of one
// read and an LF at the start of the next are one line end whatever the
// time between them (readline's crlfDelay: Infinity; Node's default of
// 100 ms makes the answer depend on timing), also across empty reads
// (where Node counts two: an empty chunk resets its pairing, though Node's
// own sources never push one). Lines are the bytes read, not decoded from
// UTF-8. A line may be up to MaxLineLength, 1 MiB, long (LinesMax sets
// another limit); a longer one ends the stream with ErrLineTooLong. Node
// has no limit, but a reader of untrusted input needs one, and
// bufio.Scanner's 64 KiB is too short for many JSON log lines. The buffer
// grows with the line being read and goes back to 32 KiB after it.
//
// # Misuse
//
// A nil function, stream, context, reader, writer or Pipe, a count or size
// below its minimum, a zero Option: each panics at the call, with the
// "stream: " prefix, not later on another goroutine.
package stream
