package sse

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxLastEventID is the longest Last-Event-ID a Broker looks up; a longer
// one is treated as unknown (the client gets a reset event).
const maxLastEventID = 256

// lastEventID returns the ID a reconnecting client sent: the Last-Event-ID
// header (what EventSource sends), else the lastEventId query parameter
// (what polyfills that cannot set headers send). present is false when the
// client sent neither (or an empty one, as EventSource does before its
// first ID); valid is false when the ID is untrusted garbage: longer than
// maxLastEventID, not UTF-8, or with CR, LF or NUL, which no event ID
// the broker wrote can contain.
func lastEventID(r *http.Request) (id string, present, valid bool) {
	id = r.Header.Get("Last-Event-ID")
	if id == "" && r.URL != nil {
		if len(r.URL.RawQuery) > 0 { // avoid parsing the query on the common path
			id = r.URL.Query().Get("lastEventId")
		}
	}
	if id == "" {
		return "", false, false
	}
	if len(id) > maxLastEventID || !utf8.ValidString(id) || strings.ContainsAny(id, "\r\n\x00") {
		return "", true, false
	}
	return id, true, true
}

// checkPublishedID reports an error wrapping ErrInvalidField for an event
// ID a client could not send back intact as Last-Event-ID, so that its
// reconnects would always be reset: longer than maxLastEventID, not UTF-8
// (an EventSource replaces invalid bytes), with a control character other
// than tab (Go's HTTP client refuses to send it, and Go's server answers a
// request carrying it with 400, which stops an EventSource for good), or
// beginning or ending with a space or tab (HTTP trims them from header
// values). CR, LF and NUL are also Event.validate's.
func checkPublishedID(id string) error {
	switch {
	case len(id) > maxLastEventID:
		return fmt.Errorf("%w: event id longer than %d bytes", ErrInvalidField, maxLastEventID)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: event id %q is not UTF-8", ErrInvalidField, id)
	case !validHeaderValue(id):
		return fmt.Errorf("%w: event id %q contains a control character", ErrInvalidField, id)
	case id != "" && (isBlank(id[0]) || isBlank(id[len(id)-1])):
		return fmt.Errorf("%w: event id %q begins or ends with white space", ErrInvalidField, id)
	}
	return nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// validHeaderValue reports whether v can be an HTTP header value as Go's
// client sends and Go's server accepts it: no control character but tab
// (bytes 0x00–0x1F but 0x09, and 0x7F). Bytes from 0x80 up pass, so UTF-8
// IDs travel as browsers send them.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
