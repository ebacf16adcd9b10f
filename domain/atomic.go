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
