// Package integration holds end-to-end tests that run the real karyashala
// binary against real carrier software on loopback. Its tests skip, saying
// why, where that software is not installed; see docs/kannel.md.
package integration
