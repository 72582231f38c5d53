// Package middleware is Koa's onion for Go: Compose stacks layers of
// func(c, next) error so that each does its work on the way "down" to the
// handler and again on the way back "up", with downstream's error in hand:
//
//	app := middleware.Handler(
//		middleware.Logger(nil),      // >1 … <1
//		middleware.ResponseTime(),   //   >2 … <2
//		hello,                       //     handler
//	)
//
// runs >1 >2 handler <2 <1. Compose is koa-compose 4.2 (a layer that does not
// call next short-circuits; next called twice is an error; the composition is
// itself a layer), with two Go additions: a Next called after its layer
// returned does nothing and reports ErrNextAfterReturn, and a call allocates
// nothing, its state coming from a pool.
//
// For net/http, App (or Handler) serves a stack of Middleware[*Context]: the
// Context carries the writer, the request, the status and size sent (through
// a recording ResponseWriter that http.ResponseController still sees
// through), OnCommit hooks and typed per-request values (Key). Errors the
// stack returns become responses — HTTPError carries its status, anything
// else is a 500 that leaks nothing — and errors after the response was
// committed are logged. Wrap adopts any func(http.Handler) http.Handler
// (chi, alice, gorilla middleware) as a layer, and Mount any http.Handler as
// the innermost one. Recover, Logger and ResponseTime are the built-ins
// Koa's ecosystem made classic.
//
// Panics are not recovered unless a Recover layer asks for it.
package middleware
