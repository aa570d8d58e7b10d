// Command drover is a container orchestrator: one binary that is both the
// agent (`drover agent`) and the command line that talks to it.
package main

import (
	"os"

	"github.com/drover-project/drover/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
