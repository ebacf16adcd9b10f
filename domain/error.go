// Package domain holds Karyashala's entities, the service interfaces that
// every channel (USSD, SMS, operator API, console) calls, and the one error
// type they all return. It imports nothing of ours: storage implements these
// interfaces and the channels consume them.
package domain

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in the API and one kind of reply
// on the phone channels; only EINTERNAL is logged as an error.
const (
	ECONFLICT     = "conflict"     // the request clashes with current state (sold out, balance too low)
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	EINTERNAL     = "internal"     // a bug or an outage; the message is not shown to users
	EINVALID      = "invalid"      // the input is wrong; the message says which field and why
	ELIMITED      = "rate_limited" // too many requests from one caller; the message says when to try again
	ENOTFOUND     = "not_found"    // the thing named does not exist
	EUNAUTHORIZED = "unauthorized" // no or unknown credentials
)

// Error is the error every domain service returns for an expected failure.
// Message is written for the person who will read it and says what to do.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return "" // before e is declared: errors.As makes it escape, and every hop asks of a nil error
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic one for internal errors so their details never leak to users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
