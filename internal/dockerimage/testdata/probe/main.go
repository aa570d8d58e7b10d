// Command probe reports what it finds inside an image built by
// dockerimage, so the test can check the image config and root filesystem
// from the inside.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("args=%q\n", os.Args)
	fmt.Printf("GREETING=%q\n", os.Getenv("GREETING"))
	fmt.Printf("uid=%d\n", os.Getuid())
	wd, _ := os.Getwd()
	fmt.Printf("wd=%s\n", wd)
	if fi, err := os.Stat("/tmp"); err == nil {
		fmt.Printf("tmp=%v\n", fi.Mode())
	}
	if f, err := os.CreateTemp("", "probe"); err == nil {
		fmt.Println("tmp writable")
		f.Close()
	}
	if b, err := os.ReadFile("/etc/passwd"); err == nil && len(b) > 0 {
		fmt.Println("passwd present")
	}
}
