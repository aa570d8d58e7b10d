// Package version says which drover this is. Release builds set the
// variables with the linker:
//
//	go build -ldflags "-X github.com/drover-project/drover/internal/version.Version=0.2.0 \
//	  -X github.com/drover-project/drover/internal/version.Commit=$(git rev-parse HEAD)"
package version

// Version is drover's release number, without a leading "v".
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from, when known.
var Commit = ""

// String is the one line `drover version` prints, e.g.
// "drover v0.1.0-dev (7140136c)".
func String() string {
	s := "drover v" + Version
	if Commit != "" {
		s += " (" + Commit[:min(len(Commit), 8)] + ")"
	}
	return s
}
