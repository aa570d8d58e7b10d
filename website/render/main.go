// Command render turns the documentation in website/content (Markdown) into
// static HTML in website/public, with one shared page layout and a
// navigation list built from the files' first headings.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
)

var layout = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · drover</title>
<style>
body{font:16px/1.55 system-ui,sans-serif;margin:0;display:flex;color:#1d2330}
nav{width:15rem;padding:1.5rem;background:#f4f5f8;min-height:100vh;box-sizing:border-box}
nav a{display:block;color:#1d2330;text-decoration:none;padding:.2rem 0}
nav a.current{font-weight:600}
main{max-width:52rem;padding:1.5rem 2.5rem}
pre{background:#f4f5f8;padding:.8rem;overflow:auto}
code{font-family:ui-monospace,monospace;font-size:.92em}
table{border-collapse:collapse}td,th{border:1px solid #d5d8e0;padding:.3rem .6rem;text-align:left}
</style></head>
<body><nav><strong>drover</strong>{{range .Nav}}<a href="{{.Href}}"{{if .Current}} class="current"{{end}}>{{.Title}}</a>{{end}}</nav>
<main>{{.Body}}</main></body></html>
`))

type page struct {
	src, rel, href, title string
}

type navItem struct {
	Href, Title string
	Current     bool
}

func main() {
	in := flag.String("in", "website/content", "Markdown sources")
	out := flag.String("out", "website/public", "HTML output")
	flag.Parse()
	if err := render(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func render(in, out string) error {
	var pages []page
	err := filepath.WalkDir(in, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".md" {
			return err
		}
		rel, err := filepath.Rel(in, path)
		if err != nil {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		html := strings.TrimSuffix(filepath.ToSlash(rel), ".md") + ".html"
		pages = append(pages, page{src: string(src), rel: rel, href: html, title: firstHeading(string(src), rel)})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(pages, func(i, j int) bool {
		// The index comes first, then the rest by path.
		if (pages[i].href == "index.html") != (pages[j].href == "index.html") {
			return pages[i].href == "index.html"
		}
		return pages[i].href < pages[j].href
	})
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
	for _, p := range pages {
		var body bytes.Buffer
		if err := md.Convert([]byte(p.src), &body); err != nil {
			return fmt.Errorf("%s: %w", p.rel, err)
		}
		depth := strings.Count(p.href, "/")
		var nav []navItem
		for _, q := range pages {
			nav = append(nav, navItem{Href: strings.Repeat("../", depth) + q.href, Title: q.title, Current: q.href == p.href})
		}
		var buf bytes.Buffer
		err := layout.Execute(&buf, map[string]any{"Title": p.title, "Nav": nav, "Body": template.HTML(linkHTML(body.String()))})
		if err != nil {
			return err
		}
		dst := filepath.Join(out, filepath.FromSlash(p.href))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("rendered %d pages into %s\n", len(pages), out)
	return nil
}

// linkHTML points links between Markdown files at the rendered pages.
func linkHTML(s string) string {
	return strings.ReplaceAll(s, `.md"`, `.html"`)
}

func firstHeading(src, fallback string) string {
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "# ") {
			return strings.TrimSpace(line[2:])
		}
	}
	return fallback
}
