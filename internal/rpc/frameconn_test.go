package rpc

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
)

// recordingConn records what reaches the connection, write by write.
type recordingConn struct {
	net.Conn
	writes [][]byte
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

func yamuxHeader(typ uint8, length uint32) []byte {
	h := make([]byte, yamuxHeaderSize)
	h[1] = typ
	binary.BigEndian.PutUint32(h[4:], 7) // stream ID
	binary.BigEndian.PutUint32(h[8:], length)
	return h
}

func TestFrameConnSendsADataHeaderWithItsPayload(t *testing.T) {
	rec := &recordingConn{}
	c := newFrameConn(rec)
	write := func(p []byte) {
		t.Helper()
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("write of %d bytes: %d, %v", len(p), n, err)
		}
	}
	dataHeader, payload := yamuxHeader(yamuxTypeData, 5), []byte("hello")
	write(dataHeader)
	if len(rec.writes) != 0 {
		t.Fatalf("the data header went out alone: %q", rec.writes)
	}
	write(payload)
	// Header-only frames (window updates, pings, an empty data frame with
	// flags) go out at once.
	windowUpdate, emptyData := yamuxHeader(1, 1024), yamuxHeader(yamuxTypeData, 0)
	write(windowUpdate)
	write(emptyData)
	if got := bytes.Join(rec.writes, nil); !bytes.Equal(got, bytes.Join([][]byte{dataHeader, payload, windowUpdate, emptyData}, nil)) {
		t.Fatalf("the connection carried %q", got)
	}
	if len(rec.writes[len(rec.writes)-1]) != yamuxHeaderSize || len(rec.writes[len(rec.writes)-2]) != yamuxHeaderSize {
		t.Fatalf("header-only frames were held: writes %q", rec.writes)
	}
}

// TestFrameConnJoinsTheWritesOnTCP checks the header and payload reach a
// TCP peer intact through the vectored write.
func TestFrameConnJoinsTheWritesOnTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		buf := make([]byte, yamuxHeaderSize+3)
		n := 0
		for n < len(buf) {
			m, err := conn.Read(buf[n:])
			if err != nil {
				break
			}
			n += m
		}
		got <- buf[:n]
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newFrameConn(conn)
	header := yamuxHeader(yamuxTypeData, 3)
	if _, err := c.Write(header); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("payload write: %d, %v", n, err)
	}
	if b := <-got; !bytes.Equal(b, append(header, "abc"...)) {
		t.Fatalf("the peer read %q", b)
	}
}
