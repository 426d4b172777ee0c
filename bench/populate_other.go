//go:build !linux

package bench

const populateFlag = 0
