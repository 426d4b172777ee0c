// Command ctxfs is the command line of the ctxfs context store.
//
// The main package is thin: each command parses its flags, opens what it
// needs through the app helpers and calls package functions. Commands are
// defined in files of their own and add themselves to the root command with
// register from an init function.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
