package version

import "testing"

func TestString(t *testing.T) {
	defer func(v, c string) { Version, Commit = v, c }(Version, Commit)
	Version, Commit = "1.2.3", ""
	if got := String(); got != "drover v1.2.3" {
		t.Fatalf("String() = %q", got)
	}
	Commit = "7140136c0ffee"
	if got := String(); got != "drover v1.2.3 (7140136c)" {
		t.Fatalf("String() = %q", got)
	}
}
