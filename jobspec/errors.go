package jobspec

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-project/drover/structs"
)

// Error is returned when a job file, a variable file or a -var option is
// wrong. It carries every problem found, not just the first, so a user can
// fix them all in one go. Its message has one line per problem:
//
//	job.hcl:12:5: Unsupported argument; An argument named "foo" is not expected here.
//
// errors.Is(err, structs.ErrBadRequest) holds, so the HTTP layer answers 400.
type Error struct {
	// Diagnostics are the problems, sorted by file and position.
	Diagnostics hcl.Diagnostics
}

// Error formats each error diagnostic as "file:line:col: summary; detail".
func (e *Error) Error() string {
	var lines []string
	for _, d := range e.Diagnostics {
		if d.Severity == hcl.DiagError {
			lines = append(lines, formatDiagnostic(d))
		}
	}
	return strings.Join(lines, "\n")
}

// Is makes every parse error a bad request.
func (e *Error) Is(target error) bool { return target == structs.ErrBadRequest }

// formatDiagnostic renders one diagnostic on one line. Problems that belong
// to no file (a malformed -var option) have no position prefix.
func formatDiagnostic(d *hcl.Diagnostic) string {
	var b strings.Builder
	if d.Subject != nil {
		fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	b.WriteString(d.Summary)
	if d.Detail != "" {
		b.WriteString("; ")
		b.WriteString(strings.Join(strings.Fields(d.Detail), " "))
	}
	return b.String()
}

// diagnosticsError turns diagnostics into an *Error, or nil when none of
// them is an error.
func diagnosticsError(diags hcl.Diagnostics) error {
	if !diags.HasErrors() {
		return nil
	}
	sorted := slices.Clone(diags)
	// hcl reports some problems in map order; sorting makes messages stable.
	slices.SortStableFunc(sorted, compareDiagnostics)
	return &Error{Diagnostics: sorted}
}

// compareDiagnostics orders positioned diagnostics by file and offset, and
// puts the ones without a position last.
func compareDiagnostics(a, b *hcl.Diagnostic) int {
	switch {
	case a.Subject == nil && b.Subject == nil:
		return 0
	case a.Subject == nil:
		return 1
	case b.Subject == nil:
		return -1
	}
	return cmp.Or(
		cmp.Compare(a.Subject.Filename, b.Subject.Filename),
		cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte),
	)
}

// errorAt builds an error diagnostic about the given range.
func errorAt(rng hcl.Range, summary, detailFormat string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detailFormat, args...),
		Subject:  rng.Ptr(),
	}
}

// rangeString renders a position for a detail message, as "file:line:col".
func rangeString(rng hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
}
