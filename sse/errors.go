package sse

import "errors"

// Errors returned by the package. Match them with errors.Is: most are
// wrapped with the detail (the field, the status code, the limit).
var (
	// ErrInvalidField reports an event field that cannot be written
	// safely: a CR or LF in Type or ID, or a NUL in ID. Writing it would
	// inject fields into the stream, so nothing of the event is written.
	ErrInvalidField = errors.New("sse: invalid event field")

	// ErrFlushUnsupported reports a ResponseWriter through which
	// http.ResponseController cannot reach a Flush: events would sit in
	// a buffer instead of reaching the client.
	ErrFlushUnsupported = errors.New("sse: response writer cannot flush")

	// ErrClosed reports use of a Writer whose stream has ended (a write
	// failed, the client left) or of a Broker after Shutdown or Close.
	ErrClosed = errors.New("sse: closed")

	// ErrSlowSubscriber ends a subscriber whose queue overflowed under the
	// Disconnect policy; the client reconnects and replays what it missed.
	ErrSlowSubscriber = errors.New("sse: subscriber too slow")

	// ErrTooLarge reports a line or an event longer than the decoder's
	// limit (Decoder.MaxEventSize).
	ErrTooLarge = errors.New("sse: line or event too large")

	// ErrStatus reports a response a client must not retry, as an
	// EventSource stops for good: a status other than 200 (204 included)
	// or a Content-Type other than text/event-stream.
	ErrStatus = errors.New("sse: server refused the stream")
)
