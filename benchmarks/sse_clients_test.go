package benchmarks

// The SSE clients of sse_test.go run in a second process, so that the server
// process the benchmarks measure (its time, its heap) holds only the server
// side of each connection. The test binary re-executes itself with
// NODEKIT_SSE_CLIENTS set, as x/sync's singleflight tests re-execute theirs;
// TestSSEClientProcess is then the client program: it opens N loopback
// connections, checks every event on every connection (sequence number,
// content, order), and talks to the benchmark over its stdin and stdout:
//
//	stdout  "sse: ready"             every connection has received a probe event
//	stdout  "sse: batch K"           every connection has received event (K+1)*M-1 (or a later one)
//	stdout  "sse: progress N"        N events received in all, said every 500 ms while it grows
//	                                 (in steps of 1024 per connection)
//	stdout  "sse: stats k=v ..."     the totals, once the benchmark said "end"
//	stdout  "sse: error TEXT"        a connection could not be made
//	stdin   "end T"                  T events were published: count what each connection misses, close all, report
//
// Other lines on stdout (the testing package's own) are ignored.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// sseClientsEnv, when set, makes TestSSEClientProcess the client program.
	sseClientsEnv = "NODEKIT_SSE_CLIENTS"
	// ssePayloadLen is the size of every benchmark event's data: a 10-digit
	// sequence number, a dash and sseFiller.
	ssePayloadLen = 32
	sseFiller     = "abcdefghijklmnopqrstu"
	// sseProbe is the data of the events published until every client has
	// received one: the way to know that a library has registered every
	// subscriber without asking it (go-sse sends no headers before the first
	// event, and none of the libraries counts subscribers the same way).
	sseProbe = "probe"
	// sseResetType is the type of the event nodekit's Broker sends to a
	// subscriber whose Last-Event-ID fell out of the replay window.
	sseResetType = "reset"
	// sseFence starts the data of a fence event, "fence K": the
	// benchmark publishes fences after batch K when the clients have
	// received nothing for sseQuiet (a library lost events, the last ones
	// of the batch among them, or disconnected its subscribers); a client
	// counts the events of batches up to K it has not received as lost.
	sseFence = "fence "
	// sseQuiet is how long a batch may go without any client receiving
	// anything before the benchmark publishes fences.
	sseQuiet = 5 * time.Second
)

// ssePayload appends the data of event seq to dst: seq in 10 digits, a
// dash and sseFiller.
func ssePayload(dst []byte, seq int) []byte {
	var digits [10]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = '0' + byte(seq%10)
		seq /= 10
	}
	dst = append(dst, digits[:]...)
	dst = append(dst, '-')
	return append(dst, sseFiller...)
}

// sseParsePayload returns the sequence number in data, or -1 when data is
// not exactly what ssePayload makes.
func sseParsePayload(data []byte) int {
	if len(data) != ssePayloadLen || data[10] != '-' || string(data[11:]) != sseFiller {
		return -1
	}
	seq := 0
	for _, c := range data[:10] {
		if c < '0' || c > '9' {
			return -1
		}
		seq = seq*10 + int(c-'0')
	}
	return seq
}

// --- The parent's side -------------------------------------------------------

// sseClients is the client process as the benchmark sees it.
type sseClients struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // the "sse: " lines of its stdout, without the prefix
	exit  chan error  // the result of cmd.Wait
	stats *sseStats   // set by stop
}

// sseStats are the totals the client process reports when it ends.
type sseStats struct {
	events     int // data events received and checked, over all connections
	lost       int // events a connection never received
	dup        int // events received again or out of order
	bad        int // events or lines the checker did not expect
	resets     int // reset events (nodekit: Last-Event-ID out of the window)
	reconnects int // connections the server ended and the client made again
	hbMin      int // heartbeats (comments) received by the connection that got fewest
	hbMaxGap   time.Duration
}

// startSSEClients starts the client process: n connections to url, whose
// events are checked in batches of m (0: an idle run), reconnecting with
// Last-Event-ID when the server ends a stream.
func startSSEClients(tb testing.TB, url string, n, m int) *sseClients {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSSEClientProcess$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(),
		sseClientsEnv+"=1",
		fmt.Sprintf("NODEKIT_SSE_URL=%s", url),
		fmt.Sprintf("NODEKIT_SSE_N=%d", n),
		fmt.Sprintf("NODEKIT_SSE_M=%d", m),
		"GOMAXPROCS=", // the client process shares the machine with the server, as a browser would
	)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &sseClients{cmd: cmd, stdin: stdin, lines: make(chan string, 64), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "sse: "); ok {
				c.lines <- line
			}
		}
		close(c.lines)
		c.exit <- cmd.Wait()
	}()
	return c
}

// next returns the next line of the client process, or fails tb when the
// process ends, reports an error or says nothing for timeout.
func (c *sseClients) next(tb testing.TB, timeout time.Duration) string {
	tb.Helper()
	line, err := c.nextErr(timeout)
	if err != nil {
		c.kill()
		tb.Fatal(err)
	}
	return line
}

var errSSEClientsTimeout = errors.New("sse clients: no report before the timeout")

func (c *sseClients) nextErr(timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", fmt.Errorf("sse clients: process ended: %v", <-c.exit)
		}
		if msg, isErr := strings.CutPrefix(line, "error "); isErr {
			return "", fmt.Errorf("sse clients: %s", msg)
		}
		return line, nil
	case <-t.C:
		return "", errSSEClientsTimeout
	}
}

// waitReady publishes a probe event every 20 ms until every client has
// received one.
func (c *sseClients) waitReady(tb testing.TB, probe func() error, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := probe(); err != nil {
			c.kill()
			tb.Fatalf("publishing a probe: %v", err)
		}
		line, err := c.nextErr(20 * time.Millisecond)
		if errors.Is(err, errSSEClientsTimeout) || strings.HasPrefix(line, "progress ") {
			continue
		}
		if err != nil {
			c.kill()
			tb.Fatal(err)
		}
		if line != "ready" {
			c.kill()
			tb.Fatalf("sse clients said %q, want ready", line)
		}
		return
	}
	c.kill()
	tb.Fatalf("sse clients not all connected after %v", timeout)
}

// waitBatch waits until every client has received the last event of batch
// k. When the clients receive nothing for sseQuiet, it publishes the fence
// of batch k every 50 ms until they have all received it or a later event.
func (c *sseClients) waitBatch(k int, publish func(string) error) error {
	want := fmt.Sprintf("batch %d", k)
	timeout := sseQuiet
	fenced := time.Time{}
	for {
		line, err := c.nextErr(timeout)
		if errors.Is(err, errSSEClientsTimeout) {
			if fenced.IsZero() {
				fenced = time.Now()
				timeout = 50 * time.Millisecond
			} else if time.Since(fenced) > time.Minute {
				return fmt.Errorf("batch %d: not every client received its fence in a minute", k)
			}
			if err := publish(fmt.Sprintf("%s%d", sseFence, k)); err != nil {
				return fmt.Errorf("publishing the fence of batch %d: %w", k, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("waiting for batch %d: %w", k, err)
		}
		if strings.HasPrefix(line, "progress ") {
			continue
		}
		if line != want {
			return fmt.Errorf("sse clients said %q, want %q", line, want)
		}
		return nil
	}
}

// stop tells the client process that total events were published, closes
// its connections and returns its totals.
func (c *sseClients) stop(tb testing.TB, total int) sseStats {
	tb.Helper()
	if c.stats != nil {
		return *c.stats
	}
	fmt.Fprintf(c.stdin, "end %d\n", total)
	c.stdin.Close()
	var line string
	for {
		l := c.next(tb, time.Minute)
		if s, ok := strings.CutPrefix(l, "stats "); ok {
			line = s
			break
		}
	}
	var st sseStats
	for f := range strings.FieldsSeq(line) {
		k, v, _ := strings.Cut(f, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatalf("sse clients stats %q: %v", line, err)
		}
		switch k {
		case "events":
			st.events = n
		case "lost":
			st.lost = n
		case "dup":
			st.dup = n
		case "bad":
			st.bad = n
		case "resets":
			st.resets = n
		case "reconnects":
			st.reconnects = n
		case "hbmin":
			st.hbMin = n
		case "hbmaxgap_us":
			st.hbMaxGap = time.Duration(n) * time.Microsecond
		}
	}
	for range c.lines {
	}
	if err := <-c.exit; err != nil {
		tb.Fatalf("sse clients process: %v", err)
	}
	c.stats = &st
	return st
}

// kill ends the client process at once (after a failure).
func (c *sseClients) kill() {
	c.cmd.Process.Kill()
}

// --- The client process ------------------------------------------------------

// TestSSEClientProcess is the client program of the SSE benchmarks when the
// test binary is run by startSSEClients; otherwise it does nothing.
func TestSSEClientProcess(t *testing.T) {
	if os.Getenv(sseClientsEnv) == "" {
		t.Skip("the client process of the SSE benchmarks; started by them")
	}
	code := sseClientMain()
	os.Stdout.Sync()
	os.Exit(code)
}

// sseReport is the client process's output, one line at a time.
type sseReport struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (r *sseReport) say(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "sse: "+format+"\n", args...)
	r.w.Flush()
}

// sseClientGroup is the state the connections of the process share.
type sseClientGroup struct {
	url     string
	addr    string
	path    string
	n, m    int
	report  *sseReport
	stopped atomic.Bool
	dials   chan struct{} // bounds the dials in flight, so the listen backlog never overflows

	ready    atomic.Int64 // connections that have received a probe
	received atomic.Int64 // data events received, added in steps of 1024 per connection

	mu      sync.Mutex
	batches []int // batches[k]: connections done with batch k
}

// batchDone records that one connection has received the last event of
// batch k, and reports the batch once every connection has.
func (g *sseClientGroup) batchDone(k int) {
	g.mu.Lock()
	for len(g.batches) <= k {
		g.batches = append(g.batches, 0)
	}
	g.batches[k]++
	all := g.batches[k] == g.n
	g.mu.Unlock()
	if all {
		g.report.say("batch %d", k)
	}
}

func sseClientMain() int {
	report := &sseReport{w: bufio.NewWriter(os.Stdout)}
	n, _ := strconv.Atoi(os.Getenv("NODEKIT_SSE_N"))
	m, _ := strconv.Atoi(os.Getenv("NODEKIT_SSE_M"))
	url := os.Getenv("NODEKIT_SSE_URL")
	rest, ok := strings.CutPrefix(url, "http://")
	addr, path, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || n <= 0 {
		report.say("error bad arguments: url %q n %d", url, n)
		return 1
	}
	g := &sseClientGroup{url: url, addr: addr, path: "/" + path, n: n, m: m, report: report,
		dials: make(chan struct{}, 64)}

	clients := make([]*sseClient, n)
	var wg sync.WaitGroup
	for i := range clients {
		c := &sseClient{g: g}
		clients[i] = c
		wg.Go(c.run)
	}

	progress := make(chan struct{})
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		var last int64
		for {
			select {
			case <-progress:
				return
			case <-t.C:
			}
			if n := g.received.Load(); n != last {
				last = n
				report.say("progress %d", n)
			}
		}
	}()

	// Wait for "end T" (or EOF), then close every connection.
	total := -1
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "end "); ok {
			total, _ = strconv.Atoi(s)
			break
		}
	}
	g.stopped.Store(true)
	close(progress)
	for _, c := range clients {
		c.close()
	}
	wg.Wait()

	var events, lost, dup, bad, resets, reconnects int
	hbMin := -1
	var hbMaxGap time.Duration
	for _, c := range clients {
		if c.err != nil {
			report.say("error connection: %v", c.err)
			return 1
		}
		events += c.events
		lost += c.lost
		if total >= 0 && c.next < total {
			lost += total - c.next
		}
		dup += c.dup
		bad += c.bad
		resets += c.resets
		reconnects += c.reconnects
		if hbMin < 0 || c.hbCount < hbMin {
			hbMin = c.hbCount
		}
		hbMaxGap = max(hbMaxGap, c.hbMaxGap)
	}
	report.say("stats events=%d lost=%d dup=%d bad=%d resets=%d reconnects=%d hbmin=%d hbmaxgap_us=%d",
		events, lost, dup, bad, resets, reconnects, hbMin, hbMaxGap.Microseconds())
	return 0
}

// An sseClient is one connection of the client process, and what it has
// seen.
type sseClient struct {
	g *sseClientGroup

	mu   sync.Mutex // guards conn
	conn net.Conn
	done bool

	err        error // a failure that is not the server ending the stream
	next       int   // the sequence number expected next
	lastID     []byte
	gotProbe   bool
	events     int
	lost, dup  int
	bad        int
	resets     int
	reconnects int
	hbCount    int
	hbLast     time.Time
	hbMaxGap   time.Duration
	data       []byte
}

func (c *sseClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	if c.conn != nil {
		c.conn.Close()
	}
}

// run connects and reads until the process stops, reconnecting (with
// Last-Event-ID when the stream gave IDs) when the server ends the stream.
func (c *sseClient) run() {
	for attempt := 0; ; attempt++ {
		err := c.stream()
		if c.g.stopped.Load() {
			return
		}
		if attempt > 1000 {
			c.err = fmt.Errorf("gave up after %d reconnections: %v", attempt, err)
			c.g.report.say("error connection: %v", c.err)
			return
		}
		if c.gotProbe {
			c.reconnects++ // the server ended a stream that was live
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stream makes one connection and reads its events until it ends.
func (c *sseClient) stream() error {
	c.g.dials <- struct{}{}
	conn, err := net.Dial("tcp", c.g.addr)
	if err != nil {
		<-c.g.dials
		return err
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		<-c.g.dials
		conn.Close()
		return net.ErrClosed
	}
	c.conn = conn
	c.mu.Unlock()
	defer conn.Close()

	req := "GET " + c.g.path + " HTTP/1.1\r\nHost: " + c.g.addr + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
	if len(c.lastID) > 0 {
		req += "Last-Event-ID: " + string(c.lastID) + "\r\n"
	}
	req += "\r\n"
	_, err = io.WriteString(conn, req)
	<-c.g.dials // the server has accepted the connection
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("Content-Type %q", ct)
	}
	return c.read(bufio.NewReaderSize(resp.Body, 16<<10))
}

// read parses the stream (LF line ends only: every library benchmarked
// writes those) and checks each event.
func (c *sseClient) read(r *bufio.Reader) error {
	var typ []byte
	hasData := false
	c.data = c.data[:0]
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			if hasData {
				c.dispatch(typ)
			}
			typ, hasData, c.data = typ[:0], false, c.data[:0]
			continue
		}
		if line[0] == ':' {
			c.heartbeat()
			continue
		}
		field, value, _ := bytes.Cut(line, []byte{':'})
		value = bytes.TrimPrefix(value, []byte{' '})
		switch string(field) {
		case "data":
			if hasData {
				c.data = append(c.data, '\n')
			}
			c.data = append(c.data, value...)
			hasData = true
		case "id":
			c.lastID = append(c.lastID[:0], value...)
		case "event":
			typ = append(typ[:0], value...)
		case "retry":
		default:
			c.bad++
		}
	}
}

func (c *sseClient) heartbeat() {
	now := time.Now()
	if !c.hbLast.IsZero() {
		c.hbMaxGap = max(c.hbMaxGap, now.Sub(c.hbLast))
	}
	c.hbLast = now
	c.hbCount++
}

// dispatch checks one event.
func (c *sseClient) dispatch(typ []byte) {
	g := c.g
	if string(typ) == sseResetType {
		c.resets++
		return
	}
	if string(c.data) == sseProbe {
		if !c.gotProbe {
			c.gotProbe = true
			if g.ready.Add(1) == int64(g.n) {
				g.report.say("ready")
			}
		}
		return
	}
	if k, ok := bytes.CutPrefix(c.data, []byte(sseFence)); ok {
		if k, err := strconv.Atoi(string(k)); err == nil && g.m > 0 {
			if end := (k + 1) * g.m; end > c.next {
				c.lost += end - c.next
				c.advance(end)
			}
		} else {
			c.bad++
		}
		return
	}
	seq := sseParsePayload(c.data)
	if seq < 0 || len(typ) != 0 {
		c.bad++
		return
	}
	c.events++
	if c.events%1024 == 0 {
		g.received.Add(1024)
	}
	if seq < c.next {
		c.dup++
		return
	}
	c.lost += seq - c.next
	c.advance(seq + 1)
}

// advance moves on to expect event next (> c.next), reporting the batches
// now complete.
func (c *sseClient) advance(next int) {
	if m := c.g.m; m > 0 {
		// Batches [c.next/m, next/m) are now complete.
		for k := c.next / m; k < next/m; k++ {
			c.g.batchDone(k)
		}
	}
	c.next = next
}

// sseCheckPayloads is used by TestSSESetups to check the payload helpers.
func sseCheckPayloads() error {
	for _, seq := range []int{0, 1, 9, 10, 12345, 999_999_999} {
		p := ssePayload(nil, seq)
		if len(p) != ssePayloadLen {
			return fmt.Errorf("ssePayload(%d) = %q, %d bytes; want %d", seq, p, len(p), ssePayloadLen)
		}
		if got := sseParsePayload(p); got != seq {
			return fmt.Errorf("sseParsePayload(%q) = %d, want %d", p, got, seq)
		}
	}
	for _, bad := range []string{"", sseProbe, "000000000x-" + sseFiller, "0000000001-" + sseFiller + "x"} {
		if got := sseParsePayload([]byte(bad)); got != -1 {
			return fmt.Errorf("sseParsePayload(%q) = %d, want -1", bad, got)
		}
	}
	if !slices.Equal(ssePayload(nil, 42), []byte("0000000042-"+sseFiller)) {
		return fmt.Errorf("ssePayload(42) = %q", ssePayload(nil, 42))
	}
	return nil
}
