package domain

import "context"

// Atomic runs several service calls as one unit: fn's writes, made through
// services given the ctx it receives, commit together or not at all, and
// Atomically returns only once they are durable. An inbound SMS, the
// complaint it creates and its reply are one such unit, so a crash can never
// leave a message stored but unanswered, and a redelivery finds it answered.
type Atomic interface {
	Atomically(ctx context.Context, fn func(ctx context.Context) error) error
}

// deferrableKey marks a context whose writes may wait (see Deferrable).
type deferrableKey struct{}

// Deferrable marks the writes made with ctx as work that may wait for
// others: the store runs them when no other write is waiting, and now and
// then regardless, so they are never starved. Answering stored SMS is such
// work. The carrier waits on its callback's 200 for the message to be
// stored; the resident can wait a moment longer for the reply.
func Deferrable(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferrableKey{}, true)
}

// IsDeferrable reports whether ctx's writes may wait (see Deferrable).
func IsDeferrable(ctx context.Context) bool {
	v, _ := ctx.Value(deferrableKey{}).(bool)
	return v
}
