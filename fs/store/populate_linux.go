package store

import "syscall"

// mapPopulate pre-faults the whole mapping on open (Options.Populate).
const mapPopulate = syscall.MAP_POPULATE
