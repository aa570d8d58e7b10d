package fsm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// RecordStats are the number and encoded size of one kind's records.
type RecordStats struct {
	Count int
	Size  int64
}

// CountRecords reads a snapshot stream (as Persist writes it) and counts
// its records per kind ("Job", "Alloc", "Eval", "Node", ...), for
// `operator snapshot inspect`. It checks the header as Restore does.
func CountRecords(r io.Reader) (map[string]RecordStats, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	var header snapshotHeader
	if err := dec.Decode(&header); err != nil {
		return nil, fmt.Errorf("fsm: read snapshot header: %w", err)
	}
	if header.Format != snapshotFormat {
		return nil, fmt.Errorf("fsm: not a drover snapshot (format %q)", header.Format)
	}
	counts := map[string]RecordStats{}
	for n := 1; ; n++ {
		var rec struct {
			Kind  string
			Value json.RawMessage
		}
		err := dec.Decode(&rec)
		if errors.Is(err, io.EOF) {
			return counts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("fsm: read snapshot record %d: %w", n, err)
		}
		st := counts[rec.Kind]
		st.Count++
		st.Size += int64(len(rec.Value))
		counts[rec.Kind] = st
	}
}
