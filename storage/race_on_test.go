//go:build race

package storage

// raceOn: the race detector slows every write some tenfold.
const raceOn = true
