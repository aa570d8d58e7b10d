package command

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// shortIDLength is how much of a UUID the CLI shows without -verbose.
const shortIDLength = 8

// shortID cuts id to its first eight characters unless verbose.
func shortID(id string, verbose bool) string {
	if verbose || len(id) <= shortIDLength {
		return id
	}
	return id[:shortIDLength]
}

// formatKV aligns "Key|Value" rows as "Key   = Value".
func formatKV(rows []string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 1, ' ', 0)
	for _, row := range rows {
		key, value, _ := strings.Cut(row, "|")
		fmt.Fprintf(w, "%s\t= %s\n", key, value)
	}
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// formatTable aligns rows in columns two spaces apart; the first row is the header.
func formatTable(rows [][]string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	w.Flush()
	// tabwriter pads every cell but the last; trailing spaces come from empty last cells.
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// formatTime shows an instant as RFC 3339 in local time.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "<none>"
	}
	return t.Local().Format(time.RFC3339)
}

// unixNano turns the Unix nanoseconds the API uses into a time.
func unixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// formatAgo shows how long before now t was in its largest unit and the
// next one down when that is not zero ("5m3s ago", "2h ago", "3d4h ago").
func formatAgo(now, t time.Time) string {
	if t.IsZero() {
		return "<none>"
	}
	d := max(now.Sub(t).Round(time.Second), 0)
	units := []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}
	for i, u := range units {
		n := d / u.size
		if n == 0 && u.name != "s" {
			continue
		}
		out := fmt.Sprintf("%d%s", n, u.name)
		if i+1 < len(units) {
			next := units[i+1]
			if m := (d - n*u.size) / next.size; m > 0 {
				out += fmt.Sprintf("%d%s", m, next.name)
			}
		}
		return out + " ago"
	}
	return "0s ago" // unreachable: the seconds unit always answers
}

// timeCell shows t relative to now, or in full when verbose.
func timeCell(now, t time.Time, verbose bool) string {
	if verbose {
		return formatTime(t)
	}
	return formatAgo(now, t)
}

// orNone shows an empty string as "<none>".
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// sortedKeys returns a map's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// formatMiB shows a size in MiB, switching to GiB from 1024.
func formatMiB(mib int64) string {
	if mib >= 1024 {
		return fmt.Sprintf("%.1f GiB", float64(mib)/1024)
	}
	return fmt.Sprintf("%d MiB", mib)
}
