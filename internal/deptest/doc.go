// Package deptest holds the test that keeps DESIGN.md's import rules true:
// arrows point to what is imported, and nothing points up.
package deptest
