package bench

import "syscall"

// populateFlag maps bbolt files with every page read in at once.
const populateFlag = syscall.MAP_POPULATE
