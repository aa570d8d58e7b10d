package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/drover-project/drover/structs"
)

func TestCallStreamCarriesLargeReplies(t *testing.T) {
	want := make([]byte, 1<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(r.Uint32())
	}
	_, addr := startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		return StreamFunc(func(ctx context.Context, w io.Writer) error {
			_, err := io.Copy(w, bytes.NewReader(want))
			return err
		}), nil
	}))
	rc, err := newPool(t).CallStream(context.Background(), addr, "Big", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, want the %d sent", len(got), len(want))
	}
}

func TestCallStreamReportsAFailureMidway(t *testing.T) {
	_, addr := startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		if method == "Refuse" {
			return nil, structs.NotFound(errors.New("nothing here"))
		}
		return StreamFunc(func(ctx context.Context, w io.Writer) error {
			if _, err := w.Write([]byte("partial")); err != nil {
				return err
			}
			return structs.BadRequest(errors.New("broke halfway"))
		}), nil
	}))
	p := newPool(t)
	if _, err := p.CallStream(context.Background(), addr, "Refuse", nil); !errors.Is(err, structs.ErrNotFound) {
		t.Fatalf("refused stream: %v, want not found", err)
	}
	rc, err := p.CallStream(context.Background(), addr, "Break", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if !errors.Is(err, structs.ErrBadRequest) || err.Error() != "broke halfway" {
		t.Fatalf("got %q and %v; want the remote failure, not a clean end", got, err)
	}
}

func TestCallWithBodySendsTheStream(t *testing.T) {
	_, addr := startServer(t, HandlerFunc(func(ctx context.Context, method string, args Args) (any, error) {
		var name string
		if err := args.Decode(&name); err != nil {
			return nil, err
		}
		b, err := io.ReadAll(args.Body())
		if err != nil {
			return nil, err
		}
		return name + ":" + string(b), nil
	}))
	p := newPool(t)
	body := bytes.Repeat([]byte("x"), 200_000)
	var got string
	if err := p.CallWithBody(context.Background(), addr, "Upload", "file", bytes.NewReader(body), &got); err != nil {
		t.Fatal(err)
	}
	if got != "file:"+string(body) {
		t.Fatalf("the handler got %d bytes, want %d", len(got)-len("file:"), len(body))
	}
	// A body that fails to read on the caller's side fails the handler's read.
	bad := io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(structs.BadRequest(errors.New("disk gone"))))
	err := p.CallWithBody(context.Background(), addr, "Upload", "file", bad, &got)
	if !errors.Is(err, structs.ErrBadRequest) || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("failing body: %v, want the caller's error back", err)
	}
}
