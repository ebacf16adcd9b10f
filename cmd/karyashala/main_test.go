package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary play karyashala itself: commands that start
// the program again (loadtest starts "serve --demo" and its baseline with
// os.Executable) run this binary, and with KS_TEST_RUN_MAIN=1 in its
// environment it runs main on its arguments instead of the tests. The name
// has no KARYASHALA_ prefix, which loadtest strips from its server's
// environment.
func TestMain(m *testing.M) {
	if os.Getenv("KS_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
