//go:build !linux

package storage

import "os"

// allocate gives f size bytes of blocks on the disk now, so that writing
// through a mapping of it cannot run out of space later.
func allocate(f *os.File, size int64) error { return writeZeros(f, size) }
