package storage

import (
	"errors"
	"os"
	"syscall"
)

// allocate gives f size bytes of blocks on the disk now, so that writing
// through a mapping of it cannot run out of space later.
func allocate(f *os.File, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return writeZeros(f, size)
	}
	return err
}
