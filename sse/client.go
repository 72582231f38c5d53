package sse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultRetry is the reconnection time a Client waits until the server
// sets one with a retry field: 3 s, as Chromium's and Firefox's
// EventSource.
const DefaultRetry = 3 * time.Second

// DefaultMaxRetry caps a Client's exponential backoff when MaxRetry is
// zero: 1 minute.
const DefaultMaxRetry = time.Minute

// A Client reads an event stream over HTTP and reconnects as a browser's
// EventSource does: new EventSource(url) in JavaScript is
// (&sse.Client{}).Events(ctx, url) in Go.
//
// It sends Accept: text/event-stream and Cache-Control: no-cache, and on
// every reconnection the Last-Event-ID header (when the last event ID is
// not empty), so a server that keeps history replays what was missed. The
// ID of each event is the last event ID at dispatch, and persists across
// reconnections, as EventSource's lastEventId.
//
// A network error or the end of a response makes it reconnect after the
// reconnection time: the server's last retry field, else Retry. Unlike a
// browser, which retries at that pace forever, it doubles the wait for
// each consecutive attempt that delivered no event, up to MaxRetry (or the
// server's retry, if longer), and takes up to a fifth off each wait at
// random, so that clients dropped together do not return together. A
// response a browser would not retry (a status other than 200, 204
// included, or a Content-Type other than text/event-stream) ends the
// stream with an error wrapping ErrStatus, and so does an event larger
// than MaxEventSize (ErrTooLarge: the server would send it again).
//
// The zero Client is ready to use and is safe for concurrent use; its
// fields must not be changed while an Events iteration runs.
type Client struct {
	// HTTPClient makes the requests; nil means http.DefaultClient. Its
	// Timeout, if set, also ends streams that run longer.
	HTTPClient *http.Client

	// Header holds extra request headers (Authorization, cookies). A
	// Last-Event-ID here is sent on the first request and then replaced
	// by the stream's own, as a stored ID to resume from.
	Header http.Header

	// Retry is the reconnection time until the server sets one; 0 means
	// DefaultRetry.
	Retry time.Duration

	// MaxRetry caps the backoff on repeated failures; 0 means
	// DefaultMaxRetry. A server's retry field longer than MaxRetry is
	// still honoured.
	MaxRetry time.Duration

	// MaxEventSize is the Decoder's limit; 0 means DefaultMaxEventSize.
	MaxEventSize int

	// OnError, if not nil, is told why the stream is being reconnected
	// (a network error, the end of a response) before each wait; it runs
	// on the iterating goroutine. Errors that end the stream are yielded
	// instead.
	OnError func(error)
}

// Events returns an iterator over the events of the stream at url,
// connecting when iteration starts and reconnecting as the Client's doc
// describes, until ctx ends, the loop breaks, or the server refuses the
// stream for good. It yields each event with a nil error; a non-nil error
// is the last element: ctx.Err() when ctx ended, or an error wrapping
// ErrStatus, ErrTooLarge or ErrInvalidField (a header in Header that no
// request could carry: a name that is not an HTTP token, a value with a
// control character other than tab; or a last event ID from the stream
// with such a character, which an id field may hold but a Last-Event-ID
// header cannot), or the error of a request that cannot be made (a
// malformed URL, a scheme other than http and https).
// Breaking out of the loop (or a panic or runtime.Goexit in it) closes
// the response; nothing runs after Events' iteration returns.
//
// Events panics if ctx is nil or a field of c is negative.
func (c *Client) Events(ctx context.Context, url string) iter.Seq2[Event, error] {
	if ctx == nil {
		panic("sse: nil Context")
	}
	if c.Retry < 0 || c.MaxRetry < 0 || c.MaxEventSize < 0 {
		panic("sse: negative Client.Retry, MaxRetry or MaxEventSize")
	}
	return func(yield func(Event, error) bool) {
		c.run(ctx, url, yield)
	}
}

// connState is what a Client carries from one connection to the next.
type connState struct {
	lastID   string
	retry    time.Duration // the server's reconnection time, when retrySet
	retrySet bool
	header   http.Header
}

// run is the body of the Events iterator.
func (c *Client) run(ctx context.Context, url string, yield func(Event, error) bool) {
	st := connState{header: canonicalHeader(c.Header)}
	if err := checkHeader(st.header); err != nil {
		yield(Event{}, fmt.Errorf("%w in Client.Header", err))
		return
	}
	st.lastID = st.header.Get("Last-Event-ID")
	st.header.Del("Last-Event-ID")
	st.header.Set("Accept", "text/event-stream")
	st.header.Set("Cache-Control", "no-cache")

	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			yield(Event{}, err)
			return
		}
		delivered, stop, err := c.connect(ctx, url, &st, yield)
		if stop {
			return
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			yield(Event{}, ctxErr)
			return
		}
		if errors.Is(err, ErrStatus) || errors.Is(err, ErrTooLarge) || errors.Is(err, errRequest) {
			yield(Event{}, err)
			return
		}
		if delivered {
			failures = 0
		} else {
			failures++
		}
		if c.OnError != nil {
			c.OnError(err)
		}
		if !sleep(ctx, jitter(c.backoff(&st, failures))) {
			yield(Event{}, ctx.Err())
			return
		}
	}
}

// canonicalHeader returns a copy of h whose keys are in canonical form,
// merging the values of keys spelled differently (in sorted order of the
// spellings): a literal http.Header{"Last-Event-ID": …} keeps its key as
// written, which Get, Set and Del do not find, and the request would carry
// it beside the Client's own.
func canonicalHeader(h http.Header) http.Header {
	out := make(http.Header, len(h)+2)
	for _, k := range slices.Sorted(maps.Keys(h)) {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], h[k]...)
	}
	return out
}

// checkHeader returns an error wrapping ErrInvalidField for a header the
// HTTP client would refuse to send, every time: a name that is not an
// HTTP token or a value with a control character other than tab.
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if !validHeaderName(k) {
			return fmt.Errorf("%w: header name %q", ErrInvalidField, k)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return fmt.Errorf("%w: %s header value %q", ErrInvalidField, k, v)
			}
		}
	}
	return nil
}

// validHeaderName reports whether k is an HTTP token (RFC 9110 §5.1).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// isEventStream reports whether a Content-Type names an event stream as a
// browser reads it: its essence (what precedes any ';', without HTTP white
// space) is text/event-stream in any case. Parameters are not looked at:
// the Fetch standard's MIME parser skips malformed ones, and Chromium's
// EventSource compares the essence alone, where mime.ParseMediaType would
// reject "text/event-stream; charset".
func isEventStream(ct string) bool {
	essence, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.Trim(essence, " \t"), "text/event-stream")
}

// errRequest marks an error in making the request itself (a bad URL): no
// retry can fix it.
var errRequest = errors.New("sse: cannot make the request")

// connect makes one request and yields the events of its response. It
// reports whether any event was delivered, whether the consumer stopped
// the iteration, and why the connection ended.
func (c *Client) connect(ctx context.Context, url string, st *connState, yield func(Event, error) bool) (delivered, stop bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, false, fmt.Errorf("%w: %w", errRequest, err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return false, false, fmt.Errorf("%w: GET %s: not an http or https URL", errRequest, url)
	}
	req.Header = st.header.Clone()
	if st.lastID != "" {
		// An id field may hold control characters a header value cannot:
		// every attempt would fail before it left.
		if !validHeaderValue(st.lastID) {
			return false, false, fmt.Errorf("%w: %w: the stream's last event ID %q cannot be sent as Last-Event-ID", errRequest, ErrInvalidField, st.lastID)
		}
		req.Header.Set("Last-Event-ID", st.lastID)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, false, fmt.Errorf("%w: GET %s: %s", ErrStatus, url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !isEventStream(ct) {
		return false, false, fmt.Errorf("%w: GET %s: Content-Type %q, want text/event-stream", ErrStatus, url, ct)
	}

	d := NewDecoder(resp.Body)
	d.MaxEventSize = c.MaxEventSize
	d.idBuf, d.lastID = st.lastID, st.lastID
	d.retry, d.retrySet = st.retry, st.retrySet
	defer func() {
		st.lastID = d.lastID
		st.retry, st.retrySet = d.retry, d.retrySet
	}()
	for {
		ev, err := d.Next()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("sse: GET %s: stream ended: %w", url, io.EOF)
			}
			return delivered, false, err
		}
		delivered = true
		if !yield(ev, nil) {
			return delivered, true, nil
		}
	}
}

// backoff returns the wait before the next attempt after failures
// consecutive attempts that delivered nothing: the reconnection time,
// doubled per failure after the first, capped at MaxRetry (or the
// reconnection time if longer).
func (c *Client) backoff(st *connState, failures int) time.Duration {
	base := c.Retry
	if base == 0 {
		base = DefaultRetry
	}
	if st.retrySet {
		base = st.retry
	}
	if failures <= 1 {
		return base
	}
	limit := c.MaxRetry
	if limit == 0 {
		limit = DefaultMaxRetry
	}
	limit = max(limit, base)
	d := max(base, time.Millisecond) // a retry of 0 still backs off
	for range failures - 1 {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return d
}

// jitter takes up to a fifth off d at random.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d - rand.N(d/5+1)
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return ctx.Err() == nil
	}
}
