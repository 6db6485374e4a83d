package adversary

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ScenarioError is one problem in a scenario file, at a line (0 when it is
// about the file as a whole).
type ScenarioError struct {
	Source string
	Line   int
	Msg    string
}

// Error formats the problem as compilers do, "file:line: message", so that
// editors and terminals can jump to it.
func (e *ScenarioError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Source, e.Msg)
}

// ScenarioErrors is every problem found in a scenario file, by line.
type ScenarioErrors []*ScenarioError

// Error lists the problems, one per line.
func (es ScenarioErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *ScenarioError.
func (es ScenarioErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errorList collects the problems of one file.
type errorList struct {
	source string
	errs   ScenarioErrors
}

// add records a problem at line, once: a check that can fire for several
// replicas or several parameters says the same thing only once.
func (l *errorList) add(line int, format string, args ...any) {
	e := &ScenarioError{Source: l.source, Line: line, Msg: fmt.Sprintf(format, args...)}
	if slices.ContainsFunc(l.errs, func(o *ScenarioError) bool { return *o == *e }) {
		return
	}
	l.errs = append(l.errs, e)
}

// err returns the problems sorted by line (stable, so problems on one line
// keep the order they were found in), or nil.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
	return l.errs
}
