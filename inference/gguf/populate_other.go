//go:build unix && !linux

package gguf

const mapPopulate = 0
