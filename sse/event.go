package sse

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// An Event is one message of an event stream.
//
// Written (by Writer, Broker and AppendEvent), ID becomes an "id:" field
// when non-empty (never implicitly), Type an "event:" field when
// non-empty, Retry a "retry:" field in whole milliseconds when positive,
// and Data one "data:" line per line of Data (split on CR, LF and CRLF; a
// single empty "data:" line when Data is empty), so every Event written is
// dispatched by the browser as exactly one event with exactly that Data.
//
// Decoded (by Decoder), ID is the last event ID at dispatch, as
// EventSource's lastEventId, Type is "message" when the stream named none,
// and Retry is zero: Decoder.Retry reports the reconnection time.
type Event struct {
	ID    string
	Type  string
	Data  string
	Retry time.Duration
}

// breakOrNUL reports whether s holds a CR or an LF, or with nul a NUL:
// one pass with one comparison a byte, as every byte it looks for is at
// most '\r'.
func breakOrNUL(s string, nul bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= '\r' && (c == '\r' || c == '\n' || nul && c == 0) {
			return true
		}
	}
	return false
}

// validate reports ErrInvalidField for a Type or ID that would inject
// fields (CR or LF) or that an EventSource ignores (NUL in ID).
func (ev *Event) validate() error {
	if ev.valid() {
		return nil
	}
	return ev.invalid()
}

// valid reports whether validate accepts ev, scanning Type and ID once
// each; small enough to inline where every event passes.
func (ev *Event) valid() bool {
	return !breakOrNUL(ev.Type, false) && !breakOrNUL(ev.ID, true)
}

// invalid describes the field validate refused.
func (ev *Event) invalid() error {
	if breakOrNUL(ev.Type, false) {
		return fmt.Errorf("%w: event type %q contains a line break", ErrInvalidField, ev.Type)
	}
	return fmt.Errorf("%w: event id %q contains a line break or NUL", ErrInvalidField, ev.ID)
}

// AppendEvent appends the wire form of ev, ending with the blank line that
// dispatches it, to dst and returns the extended buffer. If ev has an
// invalid field it returns dst unchanged and an error wrapping
// ErrInvalidField. It allocates only when dst must grow.
func AppendEvent(dst []byte, ev Event) ([]byte, error) {
	if !ev.valid() {
		return dst, ev.invalid()
	}
	if ev.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, ev.ID...)
		dst = append(dst, '\n')
	}
	if ev.Type != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, ev.Type...)
		dst = append(dst, '\n')
	}
	if ev.Retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, ev.Retry.Milliseconds(), 10)
		dst = append(dst, '\n')
	}
	dst = appendLines(dst, "data:", ev.Data)
	return append(dst, '\n'), nil
}

// AppendComment appends text as comment lines (": " and one line of text
// each, split on CR, LF and CRLF), which clients ignore: a heartbeat that
// keeps proxies from closing an idle stream.
func AppendComment(dst []byte, text string) []byte {
	return appendLines(dst, ":", text)
}

// appendLines appends one "prefix line\n" per line of s, split on CR, LF
// and CRLF, with a space after the prefix when the line is not empty (a
// space the parser strips, so a line that starts with a space survives).
//
// It keeps the index of the next CR and of the next LF (len(s) when there
// is none) and searches again only for the one a line passed, so each
// byte of s is searched once for each: linear however the breaks mix.
func appendLines(dst []byte, prefix, s string) []byte {
	cr, lf := indexFrom(s, 0, '\r'), indexFrom(s, 0, '\n')
	start := 0
	for {
		end := min(cr, lf)
		dst = append(dst, prefix...)
		if end > start {
			dst = append(dst, ' ')
			dst = append(dst, s[start:end]...)
		}
		dst = append(dst, '\n')
		if end == len(s) {
			return dst
		}
		start = end + 1
		if end == cr && start == lf && lf < len(s) { // CRLF: one break
			start++
		}
		if cr < start {
			cr = indexFrom(s, start, '\r')
		}
		if lf < start {
			lf = indexFrom(s, start, '\n')
		}
	}
}

// indexFrom returns the index of the first c in s at or after from, or
// len(s) if there is none.
func indexFrom(s string, from int, c byte) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}
