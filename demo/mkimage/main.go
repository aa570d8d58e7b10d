// Command mkimage builds the demo app images (drover-demo:v1 and :v2 by
// default) in the local Docker engine, without a registry. `make
// demo-image` runs it; tests call the same code through
// internal/demoimage.Ensure.
//
//	go run ./demo/mkimage [-tags v1,v2] [-force]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/drover-project/drover/internal/demoimage"
)

func main() {
	tags := flag.String("tags", strings.Join(demoimage.DefaultTags, ","),
		"comma-separated versions to build; each becomes "+demoimage.Repository+":<tag>")
	force := flag.Bool("force", false, "rebuild images that already exist and are up to date")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mkimage: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}

	var list []string
	for t := range strings.SplitSeq(*tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			list = append(list, t)
		}
	}
	if len(list) == 0 {
		fmt.Fprintln(os.Stderr, "mkimage: -tags is empty")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := demoimage.Make(ctx, demoimage.Options{
		Force: *force,
		Logf: func(format string, args ...any) {
			fmt.Printf("mkimage: "+format+"\n", args...)
		},
	}, list...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}
