package sse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/nodekit/nodekit/sse"
)

// An event stream from a plain handler: Upgrade sends the headers at once,
// then each Send writes and flushes one event. The handler returns when the
// client leaves (Send fails) or, here, when it has nothing more to say.
func ExampleUpgrade() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, err := sse.Upgrade(w, r)
		if err != nil {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		for i := 1; i <= 2; i++ {
			if err := sw.Send(sse.Event{ID: fmt.Sprint(i), Type: "tick", Data: fmt.Sprint("tick ", i)}); err != nil {
				return // the client left
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(body))
	// Output:
	// 200 OK text/event-stream
	// id: 1
	// event: tick
	// data: tick 1
	//
	// id: 2
	// event: tick
	// data: tick 2
	//
}

// A Writer is safe for concurrent use: a heartbeat goroutine sends
// comments (which clients ignore) while the handler sends JSON events. The
// Upgrader sets the client's reconnection time.
func ExampleWriter() {
	type price struct {
		Symbol string  `json:"symbol"`
		Price  float64 `json:"price"`
	}
	u := sse.Upgrader{Retry: 3 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, err := u.Upgrade(w, r)
		if err != nil {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		stop := make(chan struct{})
		heartbeat := make(chan struct{})
		go func() {
			defer close(heartbeat)
			t := time.NewTicker(time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if sw.Comment("keep-alive") != nil {
						return
					}
				}
			}
		}()
		defer func() { close(stop); <-heartbeat }() // stop using sw before returning
		for _, p := range []price{{"ACME", 12.5}, {"INIT", 7}} {
			if err := sw.SendJSON(sse.Event{Type: "price"}, p); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	d := sse.NewDecoder(resp.Body)
	for ev, err := range d.All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Type, ev.Data)
	}
	retry, _ := d.Retry()
	fmt.Println("retry", retry)
	// Output:
	// price {"symbol":"ACME","price":12.5}
	// price {"symbol":"INIT","price":7}
	// retry 3s
}

// AppendEvent splits Data into data lines, so nothing in it can start a
// field or end the event early, and refuses an ID or type with a line break.
func ExampleAppendEvent() {
	buf, err := sse.AppendEvent(nil, sse.Event{ID: "42", Type: "note", Data: "two\nlines"})
	if err != nil {
		log.Fatal(err)
	}
	buf = sse.AppendComment(buf, "heartbeat")
	fmt.Printf("%s", buf)

	_, err = sse.AppendEvent(nil, sse.Event{ID: "1\nevent: forged"})
	fmt.Println(errors.Is(err, sse.ErrInvalidField))
	// Output:
	// id: 42
	// event: note
	// data: two
	// data: lines
	//
	// : heartbeat
	// true
}
