package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"time"
)

// DefaultMaxEventSize is the limit a Decoder puts on a line and on an
// event's data when MaxEventSize is zero: 1 MiB.
const DefaultMaxEventSize = 1 << 20

// minBufferSize is the size of a Decoder's first read buffer, as bufio's.
const minBufferSize = 4096

// utf8BOM is the byte order mark an event stream may start with.
const utf8BOM = "\xEF\xBB\xBF"

// A Decoder reads events from a text/event-stream, as the parser of a
// browser's EventSource does (WHATWG HTML §9.2.5 and §9.2.6), where that
// differs following Chromium (see below). It is the parsing half of
// Client; use it directly on a response body when you make the request
// yourself.
//
// Lines end at CR, LF or CRLF, also when a read splits the pair; a line
// starting with a colon is a comment; a field without a colon has an empty
// value; one space after the colon is removed; unknown fields are ignored.
// A blank line dispatches the event built since the previous one when it
// has a data field, and in any case makes its id the last event ID. An id
// containing NUL is ignored and an empty one resets the last event ID. A
// retry field made of ASCII digits sets the reconnection time. An event
// still open when the stream ends is dropped. Text is UTF-8, each maximal
// ill-formed subsequence replaced by one U+FFFD as the Encoding standard's
// decoder does, not one per byte as Go's conversions do. Two Chromium
// behaviours are followed where the spec reads otherwise: the byte right
// after a leading byte order mark is never a line end (a CR or LF there
// begins the first line), and a retry field with an empty value resets the
// reconnection time to the client's default.
//
// Memory is bounded: a line, or an event's data, longer than MaxEventSize
// bytes is an error wrapping ErrTooLarge, so a hostile or broken server
// cannot make a client buffer without end. A Decoder holds at most a few
// times MaxEventSize (its read buffer, the event being built and, for
// ill-formed UTF-8, its replacement), and gives back what a large event
// grew once events are small again. Reading
// is buffered as with bufio, and each event costs one allocation for its
// Data (strings returned stay valid: they never alias the buffer) plus one
// for a Type or ID that differs from the previous event's.
//
// A Decoder is not safe for concurrent use. Errors are sticky: once Next
// has returned an error, it returns the same error on every later call.
type Decoder struct {
	// MaxEventSize bounds the length in bytes of a line and of an event's
	// data (as received, before U+FFFD replacement); 0 means
	// DefaultMaxEventSize. Set it before the first call to Next; it
	// must not be negative.
	MaxEventSize int

	r          io.Reader
	buf        []byte // buf[start:end] is read but not yet parsed
	start, end int
	readErr    error // the reader's error, returned once buf holds no complete line
	err        error // sticky result of Next
	bomChecked bool  // the leading byte order mark was looked for
	literal    bool  // the next byte belongs to the line even if CR or LF (Chromium, after a BOM)
	skipLF     bool  // the last line ended with CR: an LF next completes the CRLF

	data    []byte // the data buffer: each data value followed by LF
	typ     []byte // the event type buffer, as received
	typeStr string // the Type of the last event with a custom type, reused while it repeats
	scratch []byte // for U+FFFD replacement in Data
	small   int    // events in a row much smaller than the grown buffers

	idBuf    string // the last event ID buffer
	lastID   string // the last event ID string
	retry    time.Duration
	retrySet bool
}

// NewDecoder returns a Decoder reading from r. It panics if r is nil.
func NewDecoder(r io.Reader) *Decoder {
	if r == nil {
		panic("sse: nil Reader")
	}
	return &Decoder{r: r}
}

// Next returns the next event of the stream: ID is the last event ID at
// dispatch (EventSource's lastEventId), Type is "message" when the stream
// named none, Retry is zero. Next blocks until the blank line that
// dispatches the event has arrived and no longer: an event is returned as
// soon as it is complete.
//
// At the end of the stream Next returns io.EOF (an event still open is
// dropped, as browsers drop it). A line or event data longer than
// MaxEventSize gives an error wrapping ErrTooLarge; a read error is
// returned as is. The events before an error are all returned first.
func (d *Decoder) Next() (Event, error) {
	if d.err != nil {
		return Event{}, d.err
	}
	if d.MaxEventSize < 0 {
		panic("sse: negative Decoder.MaxEventSize")
	}
	limit := d.MaxEventSize
	if limit == 0 {
		limit = DefaultMaxEventSize
	}
	if !d.bomChecked {
		d.checkBOM(limit)
	}
	for {
		line, err := d.readLine(limit)
		if err != nil {
			d.err = err
			return Event{}, err
		}
		if len(line) == 0 {
			d.lastID = d.idBuf
			if len(d.data) == 0 {
				d.typ = d.typ[:0]
				continue
			}
			ev := Event{
				ID:   d.lastID,
				Type: d.eventType(),
			}
			ev.Data, d.scratch = decodeStringBuf(d.data[:len(d.data)-1], d.scratch)
			d.shrink(len(d.data))
			d.data, d.typ = d.data[:0], d.typ[:0]
			return ev, nil
		}
		if err := d.field(line, limit); err != nil {
			d.err = err
			return Event{}, err
		}
	}
}

// All returns an iterator over the events Next returns. A non-nil error is
// the last element; io.EOF, the normal end, is not yielded. Breaking out
// of the loop leaves the Decoder where it is (the next call to Next or All
// goes on from the following event).
func (d *Decoder) All() iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		for {
			ev, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Event{}, err)
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// LastEventID returns the last event ID: the id of the last event
// dispatched, or of the last id-only block. It is what a reconnecting
// client sends as the Last-Event-ID header (none when it is empty). An id
// field takes effect at the blank line ending its block, so an id in an
// event still open at the end of the stream does not count.
func (d *Decoder) LastEventID() string { return d.lastID }

// Retry returns the reconnection time the last retry field set, and
// whether one is in effect: false when no retry field has been read, or
// when the last one was empty (Chromium's reset to the client's default).
// A retry field takes effect when its line ends, whether or not its event
// is dispatched. Values past the range of time.Duration saturate; values
// past 2⁶⁴-1 ms are ignored, as Chromium ignores them.
func (d *Decoder) Retry() (time.Duration, bool) { return d.retry, d.retrySet }

// eventType returns the Type of the event being dispatched, allocating only
// when it differs from the previous custom type.
func (d *Decoder) eventType() string {
	if len(d.typ) == 0 {
		return "message"
	}
	if string(d.typ) != d.typeStr { // a comparison, not a conversion: no allocation
		d.typeStr = decodeString(d.typ)
	}
	return d.typeStr
}

// shrinkAbove is the buffer size above which a Decoder gives memory back
// once events are small again.
const shrinkAbove = 64 << 10

// shrink releases the buffers a large line or event grew once 16 events
// in a row have been under a quarter of their size, so that memory follows
// what the stream sends now, not the largest event it ever sent (and a
// stream of large events does not reallocate for each).
func (d *Decoder) shrink(size int) {
	grown := max(len(d.buf), cap(d.data), cap(d.scratch))
	if grown <= shrinkAbove {
		return
	}
	if 4*size >= grown {
		d.small = 0
		return
	}
	if d.small++; d.small < 16 {
		return
	}
	d.small = 0
	if cap(d.data) > shrinkAbove {
		d.data = make([]byte, 0, 4*size)
	}
	d.scratch = nil
	if unparsed := d.end - d.start; len(d.buf) > shrinkAbove && unparsed <= shrinkAbove/2 {
		buf := make([]byte, max(minBufferSize, 2*unparsed))
		d.end, d.start = copy(buf, d.buf[d.start:d.end]), 0
		d.buf = buf
	}
}

// field processes one non-blank line.
func (d *Decoder) field(line []byte, limit int) error {
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		if len(d.data)+len(value) > limit {
			return fmt.Errorf("%w: event data over %d bytes", ErrTooLarge, limit)
		}
		d.data = append(d.data, value...)
		d.data = append(d.data, '\n')
	case "event":
		d.typ = append(d.typ[:0], value...)
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != d.idBuf {
			d.idBuf = decodeString(value)
		}
	case "retry":
		d.setRetry(value)
	}
	return nil
}

// setRetry applies a retry field's value.
func (d *Decoder) setRetry(value []byte) {
	if len(value) == 0 {
		d.retry, d.retrySet = 0, false
		return
	}
	var ms uint64
	for _, c := range value {
		if c < '0' || c > '9' {
			return
		}
		digit := uint64(c - '0')
		if ms > (math.MaxUint64-digit)/10 {
			return // not a uint64: ignored, as by Chromium
		}
		ms = ms*10 + digit
	}
	if ms > math.MaxInt64/uint64(time.Millisecond) {
		d.retry = math.MaxInt64
	} else {
		d.retry = time.Duration(ms) * time.Millisecond
	}
	d.retrySet = true
}

// checkBOM strips a leading byte order mark. As Chromium, it looks at the
// first three bytes only when no line ends among them, and after a BOM it
// takes the next byte as part of the first line even when it is CR or LF.
func (d *Decoder) checkBOM(limit int) {
	for d.end-d.start < len(utf8BOM) {
		if bytes.IndexAny(d.buf[d.start:d.end], "\r\n") >= 0 || d.readErr != nil {
			d.bomChecked = true
			return
		}
		d.fill(limit)
	}
	d.bomChecked = true
	if string(d.buf[d.start:d.start+len(utf8BOM)]) == utf8BOM {
		d.start += len(utf8BOM)
		d.literal = true
	}
}

// readLine returns the next complete line, without its end, as a slice of
// the buffer valid until the next call.
func (d *Decoder) readLine(limit int) ([]byte, error) {
	for {
		if d.skipLF && d.start < d.end {
			if d.buf[d.start] == '\n' {
				d.start++
			}
			d.skipLF = false
		}
		p := d.buf[d.start:d.end]
		from := 0
		if d.literal && len(p) > 0 {
			from = 1
		}
		if i := lineEnd(p[from:]); i >= 0 {
			i += from
			d.literal = false
			d.start += i + 1
			d.skipLF = p[i] == '\r'
			if i > limit {
				return nil, fmt.Errorf("%w: line over %d bytes", ErrTooLarge, limit)
			}
			return p[:i], nil
		}
		if len(p) > limit {
			return nil, fmt.Errorf("%w: line over %d bytes", ErrTooLarge, limit)
		}
		if d.readErr != nil {
			return nil, d.readErr
		}
		d.fill(limit)
	}
}

// lineEnd returns the index of the first CR or LF in p, or -1.
func lineEnd(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	q := p
	if i >= 0 {
		q = p[:i]
	}
	if j := bytes.IndexByte(q, '\r'); j >= 0 {
		return j
	}
	return i
}

// errNegativeRead reports a Reader that returned a count out of range.
var errNegativeRead = errors.New("sse: reader returned an invalid count")

// fill reads more into the buffer, moving the unparsed bytes to its front
// and growing it (up to limit+1 bytes, or minBufferSize) when it is full. It
// records the reader's error in d.readErr.
func (d *Decoder) fill(limit int) {
	if d.start > 0 {
		d.end = copy(d.buf, d.buf[d.start:d.end])
		d.start = 0
	}
	if d.end == len(d.buf) {
		n := min(max(2*len(d.buf), minBufferSize), max(limit+1, minBufferSize))
		buf := make([]byte, n)
		copy(buf, d.buf[:d.end])
		d.buf = buf
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		if n < 0 || n > len(d.buf)-d.end {
			d.readErr = errNegativeRead
			return
		}
		d.end += n
		if err != nil {
			d.readErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	d.readErr = io.ErrNoProgress
}
