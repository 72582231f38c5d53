package events

import "fmt"

// ErrorEvent is the name of the event that Emit treats specially, as Node does
// with 'error': emitting it with no listener panics with an *UnhandledError.
const ErrorEvent = "error"

// ErrorMonitor is the event whose listeners run before the "error" event's
// listeners on every Emit of "error", also when "error" has no listener (so
// they see the value before the panic). It is Node's events.errorMonitor; Node
// uses a Symbol, nodekit a reserved name that no other event should use.
const ErrorMonitor = "events.errorMonitor"

// An UnhandledError is the value Emit panics with when ErrorEvent is emitted
// and nothing listens for it, Node's throw of an unhandled 'error'. When Value
// is an error, UnhandledError wraps it, so errors.Is and errors.As see it after
// recover.
type UnhandledError struct {
	Value any // the value passed to Emit
}

// Error describes the unhandled value.
func (e *UnhandledError) Error() string {
	if err, ok := e.Value.(error); ok && err != nil {
		return `events: unhandled "error" event: ` + err.Error()
	}
	return fmt.Sprintf(`events: unhandled "error" event (%v)`, e.Value)
}

// Unwrap returns Value when it is an error, otherwise nil.
func (e *UnhandledError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// errorOf turns the value of an "error" event into the error that Once
// returns: the value itself when it is an error, as Node rejects with it.
func errorOf(v any) error {
	if err, ok := v.(error); ok && err != nil {
		return err
	}
	return fmt.Errorf(`events: "error" event (%v)`, v)
}
