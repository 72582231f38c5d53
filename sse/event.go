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

// validate reports ErrInvalidField for a Type or ID that would inject
// fields (CR or LF) or that an EventSource ignores (NUL in ID).
func (ev *Event) validate() error {
	if strings.ContainsAny(ev.Type, "\r\n") {
		return fmt.Errorf("%w: event type %q contains a line break", ErrInvalidField, ev.Type)
	}
	if strings.ContainsAny(ev.ID, "\r\n\x00") {
		return fmt.Errorf("%w: event id %q contains a line break or NUL", ErrInvalidField, ev.ID)
	}
	return nil
}

// AppendEvent appends the wire form of ev, ending with the blank line that
// dispatches it, to dst and returns the extended buffer. If ev has an
// invalid field it returns dst unchanged and an error wrapping
// ErrInvalidField. It allocates only when dst must grow.
func AppendEvent(dst []byte, ev Event) ([]byte, error) {
	if err := ev.validate(); err != nil {
		return dst, err
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
func appendLines(dst []byte, prefix, s string) []byte {
	for {
		i := strings.IndexAny(s, "\r\n")
		line := s
		if i >= 0 {
			line = s[:i]
		}
		dst = append(dst, prefix...)
		if line != "" {
			dst = append(dst, ' ')
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if i < 0 {
			return dst
		}
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
}
