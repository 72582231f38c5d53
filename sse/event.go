package sse

import (
	"fmt"
	"iter"
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
// each and building no error: the path every good event takes.
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
		dst = appendField(dst, "id: ", ev.ID)
	}
	if ev.Type != "" {
		dst = appendField(dst, "event: ", ev.Type)
	}
	if ev.Retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, ev.Retry.Milliseconds(), 10)
		dst = append(dst, '\n')
	}
	for line := range lines(ev.Data) {
		dst = appendField(dst, "data: ", line)
	}
	return append(dst, '\n'), nil
}

// AppendComment appends text as comment lines (": " and one line of text
// each, split on CR, LF and CRLF), which clients ignore: a heartbeat that
// keeps proxies from closing an idle stream.
func AppendComment(dst []byte, text string) []byte {
	for line := range lines(text) {
		dst = appendField(dst, ": ", line)
	}
	return dst
}

// appendField appends one line: field (a name, a colon and a space) and
// value, or field without its space when value is empty. The parser
// strips one space after the colon, so a value that starts with a space
// survives. It inlines, so the constant field costs no copy call.
func appendField(dst []byte, field, value string) []byte {
	if value == "" {
		dst = append(dst, field[:len(field)-1]...)
	} else {
		dst = append(dst, field...)
		dst = append(dst, value...)
	}
	return append(dst, '\n')
}

// lines yields the lines of s, split on CR, LF and CRLF: one empty line
// for an empty s, and an empty last line after a final break.
//
// It keeps the index of the next CR and of the next LF (len(s) when there
// is none) and searches again only for the one a line passed, so each
// byte of s is searched once for each, with strings.IndexByte: linear
// however the breaks mix.
func lines(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		cr, lf := indexFrom(s, 0, '\r'), indexFrom(s, 0, '\n')
		start := 0
		for {
			end := min(cr, lf)
			if !yield(s[start:end]) || end == len(s) {
				return
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
}

// indexFrom returns the index of the first c in s at or after from, or
// len(s) if there is none.
func indexFrom(s string, from int, c byte) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}
