// Package stream gives Go programs Node's streams: typed streams with
// backpressure, operators that keep order while they run concurrently, a
// writable side for producers that push, a pipeline that cleans up after
// the first error, and bridges to io.Reader and io.Writer.
//
// (The full package documentation follows in doc.go as the package grows.)
package stream
