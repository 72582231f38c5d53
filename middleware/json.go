package middleware

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
)

// DefaultJSONLimit is the body size DecodeJSON accepts when given 0: 1 MiB,
// koa-bodyparser's jsonLimit.
const DefaultJSONLimit = 1 << 20

// JSON sends v as the response, Koa's ctx.body = obj: status code,
// Content-Type application/json, and v encoded by encoding/json, through
// c.Writer. v is encoded before anything is written, so an encoding error is
// returned with the response still uncommitted (the App answers it with
// 500).
func (c *Context) JSON(code int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("middleware: JSON: %w", err)
	}
	c.Writer.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.Writer.WriteHeader(code)
	_, err = c.Writer.Write(body)
	return err
}

// DecodeJSON reads the request body, at most maxBytes of it (0 means
// DefaultJSONLimit), and decodes the one JSON value it must hold into v, as
// json.Unmarshal does; koa-bodyparser's job. Its errors are *HTTPErrors a
// client can read, never a 500: 413 Request Entity Too Large for a body over
// the limit, and 400 Bad Request for an empty body, malformed JSON, a value
// of the wrong type for v, more than one value, or a body that could not be
// read. The message says what was wrong and where, without Go type names;
// the decoder's error is the cause (Err).
//
// DecodeJSON panics if v is not a non-nil pointer or maxBytes is negative:
// those are programmer errors.
func (c *Context) DecodeJSON(v any, maxBytes int64) error {
	if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic(fmt.Sprintf("middleware: DecodeJSON: want a non-nil pointer, got %T", v))
	}
	if maxBytes < 0 {
		panic("middleware: DecodeJSON: negative maxBytes")
	}
	if maxBytes == 0 {
		maxBytes = DefaultJSONLimit
	}
	body := c.Request.Body
	if body == nil {
		body = http.NoBody
	}
	// The innermost writer is net/http's, which MaxBytesReader tells to
	// close the connection once the limit is hit.
	dec := json.NewDecoder(http.MaxBytesReader(innermost(c.Writer), body, maxBytes))
	if err := dec.Decode(v); err != nil {
		return jsonError(err, maxBytes)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, maxBytes)
		}
		return &HTTPError{Code: http.StatusBadRequest, Message: "request body must hold a single JSON value", Err: err}
	}
	return nil
}

// jsonError maps a decoding error to the client's answer.
func jsonError(err error, limit int64) error {
	var (
		he   *HTTPError
		mbe  *http.MaxBytesError
		se   *json.SyntaxError
		ute  *json.UnmarshalTypeError
		code = http.StatusBadRequest
		msg  string
	)
	switch {
	case errors.As(err, &he):
		return err // a json.Unmarshaler of yours chose the answer
	case errors.As(err, &mbe):
		code, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit)
	case err == io.EOF:
		msg = "empty request body, want JSON"
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "malformed JSON: unexpected end of the body"
	case errors.As(err, &se):
		msg = fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &ute):
		where := ute.Field
		if where == "" {
			where = "the top level"
		}
		msg = fmt.Sprintf("JSON %s at %s has the wrong type, want %s", ute.Value, where, kindName(ute.Type))
	default:
		// A read error (the client went away) or an error from a
		// json.Unmarshaler: not the server's fault, and not to be echoed.
		msg = "invalid request body"
	}
	return &HTTPError{Code: code, Message: msg, Err: err}
}

// kindName names a Go type's JSON kind, not the type itself.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another type"
}
