package sse_test

import (
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/nodekit/nodekit/sse"
)

// A Decoder reads the events of a stream you fetched yourself, as an
// EventSource would dispatch them.
func ExampleDecoder() {
	stream := "retry: 5000\n" +
		": a comment, ignored\n" +
		"id: 1\nevent: greeting\ndata: hello\ndata: world\n\n" +
		"data: the id persists\n\n" +
		"id: 2\ndata: never ended"
	d := sse.NewDecoder(strings.NewReader(stream))
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s id=%s %q\n", ev.Type, ev.ID, ev.Data)
	}
	retry, _ := d.Retry()
	fmt.Println("reconnect after", retry, "with Last-Event-ID", d.LastEventID())
	// Output:
	// greeting id=1 "hello\nworld"
	// message id=1 "the id persists"
	// reconnect after 5s with Last-Event-ID 1
}

// All ranges over the events; an error, if any, is the last element.
func ExampleDecoder_All() {
	d := sse.NewDecoder(strings.NewReader("data: small\n\ndata: far too large for the limit\n\n"))
	d.MaxEventSize = 16
	for ev, err := range d.All() {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(ev.Data)
	}
	// Output:
	// small
	// error: sse: line or event too large: line over 16 bytes
}
