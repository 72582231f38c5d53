// Package middleware is Koa's onion for Go: Compose stacks layers of
// func(c, next) error so that each does its work on the way "down" to the
// handler and again on the way back "up", with downstream's error in hand:
//
//	var app middleware.App
//	app.Use(
//		middleware.AccessLog(nil),   // >1 … <1
//		middleware.ResponseTime(),   //   >2 … <2
//		hello,                       //     handler
//	)
//	http.ListenAndServe(":3000", &app)
//
// runs >1 >2 handler <2 <1. Compose is koa-compose 4.2 (a layer that does not
// call next short-circuits; next called twice is an error; the composition is
// itself a layer), with two Go additions: a Next called after its layer
// returned runs nothing and reports ErrNextAfterReturn, and a call allocates
// nothing, its state coming from a pool.
//
// For net/http, an App serves a stack of Middleware[*Context]: the Context
// carries the Writer, the Request, the status and size sent (through a
// recording writer that http.ResponseController still sees through), OnCommit
// hooks, typed per-request values (Key), and the JSON helpers (JSON,
// DecodeJSON). Errors the stack returns become responses: an *HTTPError
// (Errorf) carries its status, message and headers; anything else is a 500
// that leaks nothing. Routing is the standard library's: an http.ServeMux
// with Go 1.22 patterns, served by Mount, whose routes are HandlerFuncs that
// run on the App's Context and return errors like any layer. Wrap adopts any
// func(http.Handler) http.Handler (chi, alice, gorilla middleware) as a
// layer. Recover, AccessLog and ResponseTime are the built-ins Koa's
// ecosystem made classic.
//
// Panics are not recovered unless a Recover layer asks for it.
//
// # Choices
//
// A Next is a small struct called as next.Call(), not a func called as
// next(), because a func cannot tell one call from another: a layer that
// kept its next (stored it, or left a goroutine that calls it again, as a
// timeout layer does) would hold the very func value that the pooled call
// state hands to the same layer in a later call — in an App, another
// request's — and calling it would run that call's downstream on the other
// request's Context. A func that can tell must be made afresh for each call,
// which allocates; the struct carries the generation of its call at no cost,
// and the pooled state checks it. The zero Next is the end of the stack, and
// NextFunc adapts a func for the outer next of a composition.
//
// An error that reaches the App after the response was committed cannot be
// answered any more. The App logs it and aborts the response with
// panic(http.ErrAbortHandler), as net/http does for a panicking handler, so
// the client sees a broken response rather than a truncated body that looks
// whole. Every error response starts from an empty header set, as Koa's
// does: what the layers set for success (Set-Cookie, Cache-Control: public,
// Content-Encoding: gzip) would otherwise ride on a plain-text error, which a
// client then fails to decode. An *HTTPError's Header is added, and OnCommit
// hooks still run, so headers that belong on every response (CORS, say) go
// in a hook.
//
// Behind Wrap, a net/http middleware owns the writer the layers after it
// write to: a buffering one (http.TimeoutHandler) sends what its handler
// wrote, 200 if nothing, once the handler returns. So the Wrap layer answers
// the error of the layers after it inside that middleware, through the writer
// it gave, and returns the error marked as answered: the layers above still
// see it and the App logs it without writing again. The Wrap layer never
// touches a writer while a handler the middleware started may still use it.
//
// The App pools its Contexts, as gin and echo do, so that serving a request
// allocates nothing: a *Context, or anything taken from it, must not be used
// after its request ends. A Next taken from it is safe: it is stale.
package middleware
