package gguf

import "syscall"

const mapPopulate = syscall.MAP_POPULATE
