//go:build !linux

package store

// mapPopulate is Linux-only; elsewhere Options.Populate does nothing.
const mapPopulate = 0
