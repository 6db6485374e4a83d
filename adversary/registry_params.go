package adversary

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// paramReader decodes the parameters of one behaviour. Parameters arrive as
// loosely typed values (from a TOML decoder or a command line), so every
// getter checks the type and the range, and records a *ParamError instead
// of stopping: a scenario author sees every bad parameter of a fault at once.
type paramReader struct {
	info *BehaviourInfo
	env  BuildEnv
	m    map[string]any
	errs []error
}

// fail records a problem with parameter name ("" for the fault as a whole).
func (r *paramReader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, &ParamError{Behaviour: r.info.Name, Param: name, Msg: fmt.Sprintf(format, args...)})
}

// checkKeys reports unknown and missing parameters. Keys are visited in
// sorted order so that the errors come out the same on every run.
func (r *paramReader) checkKeys() {
	keys := make([]string, 0, len(r.m))
	for k := range r.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.ContainsFunc(r.info.Params, func(p Param) bool { return p.Name == k }) {
			if len(r.info.Params) == 0 {
				r.fail(k, "unknown parameter %q (%s takes no parameters)", k, r.info.Name)
			} else {
				r.fail(k, "unknown parameter %q (allowed: %s)", k, r.info.allowed())
			}
		}
	}
	for _, p := range r.info.Params {
		if _, ok := r.m[p.Name]; p.Required && !ok {
			r.fail(p.Name, "missing parameter %q: %s", p.Name, p.Doc)
		}
	}
}

// failed reports whether a problem with parameter name was recorded, so
// that checks relating two parameters do not pile onto a bad value.
func (r *paramReader) failed(name string) bool {
	return slices.ContainsFunc(r.errs, func(err error) bool { return err.(*ParamError).Param == name })
}

func (r *paramReader) has(name string) bool {
	_, ok := r.m[name]
	return ok
}

func (r *paramReader) bool(name string) bool {
	v, ok := r.m[name]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(name, "%s must be true or false, got %s", name, show(v))
	}
	return b
}

// number returns a finite float parameter, def when absent, and ok = false
// (with the error recorded) when it is not a number.
func (r *paramReader) number(name string, def float64) (float64, bool) {
	v, ok := r.m[name]
	if !ok {
		return def, true
	}
	f, ok := asNumber(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail(name, "%s must be a finite number, got %s", name, show(v))
		return def, false
	}
	return f, true
}

// rate returns a probability in (0, 1], or [0, 1] when zeroOK.
func (r *paramReader) rate(name string, def float64, zeroOK bool) float64 {
	f, ok := r.number(name, def)
	if !ok {
		return f
	}
	switch {
	case zeroOK && (f < 0 || f > 1):
		r.fail(name, "%s must be in [0, 1], got %v", name, f)
	case !zeroOK && (f <= 0 || f > 1):
		r.fail(name, "%s must be in (0, 1], got %v", name, f)
	}
	return f
}

// positive returns a number > 0.
func (r *paramReader) positive(name string, def float64) float64 {
	f, ok := r.number(name, def)
	if ok && f <= 0 {
		r.fail(name, "%s must be greater than 0, got %v", name, f)
	}
	return f
}

// integer returns an integer in [lo, hi].
func (r *paramReader) integer(name string, def, lo, hi int) int {
	v, ok := r.m[name]
	if !ok {
		return def
	}
	i, ok := asInteger(v)
	if !ok {
		r.fail(name, "%s must be an integer, got %s", name, show(v))
		return def
	}
	if i < int64(lo) || i > int64(hi) {
		r.fail(name, "%s must be in %d..%d, got %d", name, lo, hi, i)
		return def
	}
	return int(i)
}

// duration returns a positive duration given as a Go duration string.
func (r *paramReader) duration(name string, def time.Duration) time.Duration {
	v, ok := r.m[name]
	if !ok {
		return def
	}
	d, err := asDuration(v)
	if err == nil && d == 0 {
		err = fmt.Errorf("must be greater than 0")
	}
	if err != nil {
		r.fail(name, "%s: %v", name, err)
		return def
	}
	return d
}

// enum returns one of the allowed strings.
func (r *paramReader) enum(name, def string, allowed ...string) string {
	v, ok := r.m[name]
	if !ok {
		return def
	}
	s, ok := v.(string)
	if !ok || !slices.Contains(allowed, s) {
		r.fail(name, "%s must be one of %s, got %s", name, quoteAll(allowed), show(v))
		return def
	}
	return s
}

// ids returns a list of distinct replica ids of the cluster (nil when
// absent).
func (r *paramReader) ids(name string) []pbft.ReplicaID {
	v, ok := r.m[name]
	if !ok {
		return nil
	}
	ids, msg := asIDs(v, r.env.N)
	if msg != "" {
		r.fail(name, "%s %s", name, msg)
		return nil
	}
	if len(ids) == 0 {
		r.fail(name, "%s must list at least one replica", name)
		return nil
	}
	return ids
}

// groups returns a list of lists of replica ids.
func (r *paramReader) groups(name string) [][]pbft.ReplicaID {
	v, ok := r.m[name]
	if !ok {
		return nil
	}
	items, ok := asList(v)
	if !ok {
		r.fail(name, "%s must be an array of arrays of replica ids, got %s", name, show(v))
		return nil
	}
	out := make([][]pbft.ReplicaID, 0, len(items))
	for i, item := range items {
		ids, msg := asIDs(item, r.env.N)
		if msg == "" && len(ids) == 0 {
			msg = "must not be empty"
		}
		if msg != "" {
			r.fail(name, "%s: group %d %s", name, i+1, msg)
			return nil
		}
		out = append(out, ids)
	}
	return out
}

// msgTypes returns a list of message types given by their paper names.
func (r *paramReader) msgTypes(name string) []pbft.MsgType {
	v, ok := r.m[name]
	if !ok {
		return nil
	}
	items, ok := asList(v)
	if !ok {
		r.fail(name, "%s must be an array of message type names, got %s", name, show(v))
		return nil
	}
	var out []pbft.MsgType
	for _, item := range items {
		s, _ := item.(string)
		t, ok := msgTypeByName(s)
		if !ok {
			r.fail(name, "%s: unknown message type %s (known: %s)", name, show(item), quoteAll(msgTypeNames()))
			return nil
		}
		if slices.Contains(out, t) {
			r.fail(name, "%s lists %s twice", name, s)
			return nil
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		r.fail(name, "%s must list at least one message type", name)
	}
	return out
}

// msgTypeNames returns the names of the protocol's message types, in wire
// order, read off pbft.MsgType so that new types show up by themselves.
func msgTypeNames() []string {
	var names []string
	for t := 1; t < 256; t++ {
		if s := pbft.MsgType(t).String(); s != "UNKNOWN" {
			names = append(names, s)
		}
	}
	return names
}

func msgTypeByName(s string) (pbft.MsgType, bool) {
	for t := 1; t < 256; t++ {
		if s != "UNKNOWN" && pbft.MsgType(t).String() == s {
			return pbft.MsgType(t), true
		}
	}
	return 0, false
}

// asIDs converts v to distinct replica ids below n (below the largest
// cluster when n is 0). It returns a message completing "<param> ..." on
// failure.
func asIDs(v any, n int) ([]pbft.ReplicaID, string) {
	items, ok := asList(v)
	if !ok {
		return nil, "must be an array of replica ids, got " + show(v)
	}
	limit := n
	if limit <= 0 {
		limit = pbft.MaxViewChanges
	}
	ids := make([]pbft.ReplicaID, 0, len(items))
	for _, item := range items {
		i, ok := asInteger(item)
		if !ok {
			return nil, "must be an array of replica ids, got " + show(item) + " in it"
		}
		if i < 0 || i >= int64(limit) {
			if n > 0 {
				return nil, fmt.Sprintf("names replica %d, out of range for n = %d (ids are 0..%d)", i, n, n-1)
			}
			return nil, fmt.Sprintf("names replica %d, out of range 0..%d", i, limit-1)
		}
		id := pbft.ReplicaID(i)
		if slices.Contains(ids, id) {
			return nil, fmt.Sprintf("lists replica %d twice", i)
		}
		ids = append(ids, id)
	}
	return ids, ""
}

// asList accepts any slice or array (a TOML array decodes to []any; Go
// callers may pass []int or []pbft.ReplicaID).
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asInteger accepts any Go integer type. A time.Duration is not an integer
// here: it would be a unit mistake.
func asInteger(v any) (int64, bool) {
	if _, ok := v.(time.Duration); ok {
		return 0, false
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return 0, false
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	return 0, false
}

// asNumber accepts any Go integer or float type.
func asNumber(v any) (float64, bool) {
	if i, ok := asInteger(v); ok {
		return float64(i), true
	}
	rv := reflect.ValueOf(v)
	if rv.IsValid() && (rv.Kind() == reflect.Float32 || rv.Kind() == reflect.Float64) {
		return rv.Float(), true
	}
	return 0, false
}

// asDuration accepts a Go duration string ("250ms") or a time.Duration. A
// bare number is refused: TOML has no unit, and guessing one hides typos.
func asDuration(v any) (time.Duration, error) {
	var d time.Duration
	switch v := v.(type) {
	case time.Duration:
		d = v
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("invalid duration %q (want a Go duration such as \"500ms\" or \"2s\")", v)
		}
	default:
		return 0, fmt.Errorf("want a duration string such as \"2s\", got %s", show(v))
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %v is negative", d)
	}
	return d, nil
}

// show renders a parameter value as the scenario file would spell it.
func show(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case nil:
		return "nothing"
	case map[string]any:
		return "a table"
	}
	if l, ok := asList(v); ok {
		s := "["
		for i, x := range l {
			if i > 0 {
				s += ", "
			}
			if len(s) > 60 {
				return s + "...]"
			}
			s += show(x)
		}
		return s + "]"
	}
	return fmt.Sprint(v)
}

func quoteAll(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", s)
	}
	return out
}
