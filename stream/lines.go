package stream

import (
	"bytes"
	"fmt"
	"io"
)

// MaxLineLength is the longest line Lines accepts, in bytes: 1 MiB. A
// longer one ends the stream with ErrLineTooLong.
const MaxLineLength = 1 << 20

// linesBuffer is the size of the reads of Lines, and of its buffer until a
// line needs more.
const linesBuffer = 32 << 10

// Lines returns a Stream of the lines read from r, without their line
// ends, as Node's readline and bufio.ScanLines give them (strings.Lines
// keeps them). A line ends at LF, CR or CRLF; a CR that ends one Read and
// the LF that starts the next are one line end, whatever the time between
// them (Node's crlfDelay: Infinity). The last line needs no line end; an
// empty input has no lines, and a line end at the very end of the input
// starts no new one. Lines are the bytes read, not decoded (Node decodes
// UTF-8, replacing invalid bytes with U+FFFD).
//
// A line longer than MaxLineLength ends the stream with an error wrapping
// ErrLineTooLong (use LinesMax for another limit): Node's readline has no
// limit, and bufio.Scanner's 64 KiB is too short for many JSON log lines.
// A read error other than io.EOF ends the stream after the complete lines
// before it; the incomplete line is dropped. It can be ranged once (see
// ErrConsumed). Lines panics if r is nil.
func Lines(r io.Reader) Stream[string] { return LinesMax(r, MaxLineLength) }

// LinesMax is Lines with max, instead of MaxLineLength, as the longest line
// in bytes. It panics if r is nil or max < 1.
func LinesMax(r io.Reader, max int) Stream[string] {
	if r == nil {
		panic("stream: nil Reader")
	}
	mustPositive(max, "line length limit")
	var once oneShot
	return func(yield func(string, error) bool) {
		if !once.take() {
			consumed(yield)
			return
		}
		sp := splitter{r: r, max: max}
		sp.run(yield)
	}
}

// A splitter cuts the bytes of r into lines.
type splitter struct {
	r      io.Reader
	max    int
	buf    []byte
	start  int  // the start of the current line in buf
	scan   int  // where to look for a line end next; buf[start:scan] has none
	end    int  // the end of the bytes read
	skipLF bool // the last line ended with a CR at the end of a read: skip an LF that comes next
	line   int  // lines yielded, for the error message
}

func (sp *splitter) run(yield func(string, error) bool) {
	sp.buf = make([]byte, linesBuffer)
	var readErr error // the error of the last Read, seen after its bytes
	empty := 0        // Reads in a row that returned nothing
	for {
		if !sp.complete(yield) {
			return
		}
		switch {
		case readErr == io.EOF:
			if sp.start < sp.end {
				sp.yieldLine(yield, sp.buf[sp.start:sp.end])
			}
			return
		case readErr != nil:
			yield("", readErr)
			return
		}
		sp.makeRoom()
		n, err := sp.r.Read(sp.buf[sp.end:])
		sp.end += n
		readErr = err
		if n > 0 || err != nil {
			empty = 0
		} else if empty++; empty == 100 {
			readErr = io.ErrNoProgress
		}
	}
}

// complete yields the complete lines in the buffer, then checks the length
// of the incomplete one; it reports whether to go on.
func (sp *splitter) complete(yield func(string, error) bool) bool {
	for {
		if sp.skipLF && sp.start < sp.end {
			if sp.buf[sp.start] == '\n' {
				sp.start++
				sp.scan = max(sp.scan, sp.start)
			}
			sp.skipLF = false
		}
		i := lineEnd(sp.buf[sp.scan:sp.end])
		if i < 0 {
			sp.scan = sp.end
			break
		}
		i += sp.scan
		if !sp.yieldLine(yield, sp.buf[sp.start:i]) {
			return false
		}
		if sp.buf[i] == '\r' {
			if i+1 < sp.end {
				if sp.buf[i+1] == '\n' {
					i++
				}
			} else {
				sp.skipLF = true
			}
		}
		sp.start, sp.scan = i+1, i+1
	}
	if sp.end-sp.start > sp.max {
		sp.tooLong(yield)
		return false
	}
	return true
}

// yieldLine yields line, or ErrLineTooLong if it is longer than the limit,
// and reports whether to go on.
func (sp *splitter) yieldLine(yield func(string, error) bool, line []byte) bool {
	if len(line) > sp.max {
		sp.tooLong(yield)
		return false
	}
	sp.line++
	return yield(string(line), nil)
}

func (sp *splitter) tooLong(yield func(string, error) bool) {
	yield("", fmt.Errorf("%w: line %d is longer than %d bytes", ErrLineTooLong, sp.line+1, sp.max))
}

// makeRoom makes room at the end of the buffer for a read: it moves the
// incomplete line to the front, grows the buffer when that line fills it,
// and goes back to a buffer of the first size once a long line is done and
// what is left fits in half of one (memory follows the longest line being
// read, not the longest line ever read).
func (sp *splitter) makeRoom() {
	pending := sp.end - sp.start
	if len(sp.buf) > linesBuffer && pending <= linesBuffer/2 {
		small := make([]byte, linesBuffer)
		copy(small, sp.buf[sp.start:sp.end])
		sp.buf = small
		sp.scan -= sp.start
		sp.start, sp.end = 0, pending
		return
	}
	if sp.start > 0 {
		copy(sp.buf, sp.buf[sp.start:sp.end])
		sp.scan -= sp.start
		sp.start, sp.end = 0, pending
	}
	if sp.end == len(sp.buf) {
		grown := make([]byte, 2*len(sp.buf))
		copy(grown, sp.buf[:sp.end])
		sp.buf = grown
	}
}

// lineEnd returns the index of the first CR or LF in b, or -1.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}
