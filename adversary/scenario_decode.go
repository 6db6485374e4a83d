package adversary

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// The file's shape. Sections decode strictly into these structs, which are
// filled with the defaults first: a key the file leaves out keeps its
// default. Faults stay loosely typed maps, because each behaviour has its
// own parameters; the registry decodes them.
type fileScenario struct {
	Name         string           `toml:"name"`
	Description  string           `toml:"description"`
	Seed         uint64           `toml:"seed"`
	Duration     duration         `toml:"duration"`
	AllowBeyondF bool             `toml:"allow_beyond_f"`
	Testnet      fileTestnet      `toml:"testnet"`
	Network      fileNetwork      `toml:"network"`
	Load         fileLoad         `toml:"load"`
	Fault        []map[string]any `toml:"fault"`
	Expect       fileExpect       `toml:"expect"`
}

type fileTestnet struct {
	N                  int      `toml:"n"`
	Batch              int      `toml:"batch"`
	BatchTimeout       duration `toml:"batch_timeout"`
	CheckpointInterval int      `toml:"checkpoint_interval"`
	WatermarkWindow    int      `toml:"watermark_window"`
	RequestTimeout     duration `toml:"request_timeout"`
}

type fileNetwork struct {
	MinDelay  duration `toml:"min_delay"`
	MaxDelay  duration `toml:"max_delay"`
	Loss      float64  `toml:"loss"`
	Duplicate float64  `toml:"duplicate"`
}

type fileLoad struct {
	Clients int      `toml:"clients"`
	Rate    float64  `toml:"rate"`
	Think   duration `toml:"think"`
	Payload int      `toml:"payload"`
	// Mix is a pointer so that a mix given in the file starts from zero
	// rather than from the default shares: a mix of {put = 1} means only
	// puts.
	Mix  *fileMix `toml:"mix"`
	Keys int      `toml:"keys"`
}

type fileMix struct {
	Put    float64 `toml:"put"`
	Get    float64 `toml:"get"`
	Append float64 `toml:"append"`
	CAS    float64 `toml:"cas"`
}

type fileExpect struct {
	Safety        bool     `toml:"safety"`
	RecoverWithin duration `toml:"recover_within"`
	MaxWait       duration `toml:"max_wait"`
}

// defaultFile holds the defaults, the values of the example in
// bench/scenarios/README.md.
func defaultFile() fileScenario {
	return fileScenario{
		Seed:     7,
		Duration: dur(12 * time.Second),
		Testnet: fileTestnet{
			N: 4, Batch: 16, BatchTimeout: dur(2 * time.Millisecond),
			CheckpointInterval: 16, WatermarkWindow: 32, RequestTimeout: dur(500 * time.Millisecond),
		},
		Network: fileNetwork{MinDelay: dur(200 * time.Microsecond), MaxDelay: dur(2 * time.Millisecond)},
		Load:    fileLoad{Clients: 4, Think: dur(10 * time.Millisecond), Payload: 64, Keys: 16},
		Expect:  fileExpect{Safety: true, RecoverWithin: dur(5 * time.Second), MaxWait: dur(0)},
	}
}

// defaultMix is the operation mix when the file gives none.
var defaultMix = MixSpec{Put: 0.5, Get: 0.3, Append: 0.2}

// duration is a Go duration string in the file ("250ms"), decoded as any
// and converted by the scenario's own code: go-toml would store a bare
// integer in a time.Duration as nanoseconds, and it reports the errors of a
// TextUnmarshaler given an integer without a position.
type duration = any

func dur(d time.Duration) duration { return d.String() }

// decodeScenario decodes data into a Scenario with defaults, and indexes
// its lines. It records problems in errs, and returns a nil Scenario when
// the file cannot be read as a scenario at all; broken lists the faults
// (numbered from 1) the validator must not look at further.
func decodeScenario(name string, data []byte, errs *errorList) (s *Scenario, ix *lineIndex, broken map[int]bool) {
	f := defaultFile()
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		decodeErrors(errs, err)
		return nil, nil, nil
	}
	ix = newLineIndex(data)
	def := defaultFile()
	d := func(path string, v, orig any) time.Duration {
		t, err := asDuration(v)
		if err != nil {
			// Go on with the default, so that the value read as 0 does
			// not cause further errors.
			errs.add(ix.find(path), "%s: %v", path, err)
			t, _ = asDuration(orig)
		}
		return t
	}
	s = &Scenario{
		Name: f.Name, Description: f.Description, Seed: f.Seed,
		Duration: d("duration", f.Duration, def.Duration), AllowBeyondF: f.AllowBeyondF,
		Testnet: TestnetSpec{
			N:                  f.Testnet.N,
			Batch:              f.Testnet.Batch,
			BatchTimeout:       d("testnet.batch_timeout", f.Testnet.BatchTimeout, def.Testnet.BatchTimeout),
			CheckpointInterval: f.Testnet.CheckpointInterval,
			WatermarkWindow:    f.Testnet.WatermarkWindow,
			RequestTimeout:     d("testnet.request_timeout", f.Testnet.RequestTimeout, def.Testnet.RequestTimeout),
		},
		Network: NetworkSpec{
			MinDelay:  d("network.min_delay", f.Network.MinDelay, def.Network.MinDelay),
			MaxDelay:  d("network.max_delay", f.Network.MaxDelay, def.Network.MaxDelay),
			Loss:      f.Network.Loss,
			Duplicate: f.Network.Duplicate,
		},
		Load: LoadSpec{
			Clients: f.Load.Clients, Rate: f.Load.Rate, Think: d("load.think", f.Load.Think, def.Load.Think),
			Payload: f.Load.Payload, Mix: defaultMix, Keys: f.Load.Keys,
		},
		Expect: ExpectSpec{
			Safety:        f.Expect.Safety,
			RecoverWithin: d("expect.recover_within", f.Expect.RecoverWithin, def.Expect.RecoverWithin),
			MaxWait:       d("expect.max_wait", f.Expect.MaxWait, def.Expect.MaxWait),
		},
		Source: name,
	}
	if m := f.Load.Mix; m != nil {
		s.Load.Mix = MixSpec{Put: m.Put, Get: m.Get, Append: m.Append, CAS: m.CAS}
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	if _, ok := ix.lines["fault[1]"]; len(f.Fault) > 0 && !ok {
		// go-toml reads a single [fault] table as an array of one.
		errs.add(ix.find("fault"), "fault must be an array of tables: write [[fault]], once per fault")
		return nil, nil, nil
	}
	broken = map[int]bool{}
	for i, m := range f.Fault {
		before := len(errs.errs)
		s.Faults = append(s.Faults, decodeFault(errs, ix, i+1, m, s.Testnet.N))
		if len(errs.errs) > before {
			broken[i+1] = true
		}
	}
	return s, ix, broken
}

// faultKeys are the keys every [[fault]] may have; the others are the
// behaviour's parameters.
var faultKeys = []string{"behaviour", "nodes", "from", "until"}

// decodeFault takes the common keys out of a [[fault]] table and leaves
// the rest as the behaviour's parameters. n is the testnet's size, used to
// check node ids if it is itself valid.
func decodeFault(errs *errorList, ix *lineIndex, i int, m map[string]any, n int) FaultSpec {
	at := func(key string) int { return ix.find(fmt.Sprintf("fault[%d].%s", i, key), fmt.Sprintf("fault[%d]", i)) }
	fs := FaultSpec{Line: ix.find(fmt.Sprintf("fault[%d]", i)), Params: map[string]any{}}
	for k, v := range m {
		fs.Params[k] = v
	}
	for _, k := range faultKeys {
		delete(fs.Params, k)
	}
	switch v, ok := m["behaviour"]; {
	case !ok:
		errs.add(fs.Line, "fault %d: missing behaviour (one of %s)", i, strings.Join(Behaviours(), ", "))
	default:
		name, isString := v.(string)
		if _, known := Describe(name); !isString || !known {
			errs.add(at("behaviour"), "fault %d: unknown behaviour %s (known: %s)", i, show(v), strings.Join(Behaviours(), ", "))
		}
		fs.Behaviour = name
	}
	if v, ok := m["nodes"]; ok {
		if !validN(n) {
			n = 0 // the validator reports n; check against the largest cluster
		}
		ids, msg := asIDs(v, n)
		if msg != "" {
			errs.add(at("nodes"), "%s: nodes %s", faultLabel(i, fs.Behaviour), msg)
		}
		fs.Nodes = ids
	}
	for _, k := range []string{"from", "until"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		d, err := asDuration(v)
		if err != nil {
			errs.add(at(k), "%s: %s: %v", faultLabel(i, fs.Behaviour), k, err)
		}
		if k == "from" {
			fs.From = d
		} else {
			fs.Until = d
			if err == nil && d == 0 {
				errs.add(at(k), "%s: until must be after from (leave it out to last until the end)", faultLabel(i, fs.Behaviour))
			}
		}
	}
	return fs
}

// faultLabel names fault i in errors: "fault 2 (equivocate)", or "fault 2"
// when its behaviour is missing or unknown (a name read from the file could
// hold anything, line breaks included; the unknown-behaviour error quotes
// it).
func faultLabel(i int, behaviour string) string {
	if _, known := Describe(behaviour); !known {
		return fmt.Sprintf("fault %d", i)
	}
	return fmt.Sprintf("fault %d (%s)", i, behaviour)
}

// decodeErrors turns go-toml's errors into line-numbered ones in the
// scenario's vocabulary.
func decodeErrors(errs *errorList, err error) {
	var strict *toml.StrictMissingError
	var de *toml.DecodeError
	switch {
	case errors.As(err, &strict):
		seen := map[string]bool{}
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			msg := unknownField(e.Key())
			if !seen[msg] {
				seen[msg] = true
				errs.add(line, "%s", msg)
			}
		}
	case errors.As(err, &de):
		line, _ := de.Position()
		errs.add(line, "%s", decodeMessage(de))
	default:
		errs.add(0, "%v", err)
	}
}

var mismatch = regexp.MustCompile(`^cannot decode TOML ([a-z ]+) into (?:struct field .* of type )?(.+)$`)

// decodeMessage rewrites go-toml's message about Go types into one about
// the file.
func decodeMessage(de *toml.DecodeError) string {
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	key := strings.Join(de.Key(), ".")
	if m := mismatch.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("want %s, got %s", goTypeWord(m[2]), article(m[1]))
	}
	if key != "" && !strings.Contains(msg, key) {
		msg = key + ": " + msg
	}
	return msg
}

// goTypeWord names the Go type of a field the way a file author thinks of
// the value.
func goTypeWord(t string) string {
	switch {
	case t == "int":
		return "an integer"
	case t == "uint64":
		return "a non-negative integer"
	case t == "float64":
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]map"):
		return "an array of tables ([[fault]])"
	}
	return "a table"
}

func article(kind string) string {
	if strings.ContainsAny(kind[:1], "aeiou") {
		return "an " + kind
	}
	return "a " + kind
}

// unknownField explains a key the file format does not have, listing the
// keys allowed where it was found.
func unknownField(key []string) string {
	t := reflect.TypeFor[fileScenario]()
	where := "at the top level"
	for i, part := range key {
		f, ok := fieldByTag(t, part)
		if !ok {
			return fmt.Sprintf("unknown field %q %s (allowed: %s)", part, where, strings.Join(tags(t), ", "))
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct || ft == reflect.TypeFor[duration]() {
			// A value where the file has a table: go-toml reports the
			// table's keys; name the value instead.
			return fmt.Sprintf("%s is a value, not a table", strings.Join(key[:i+1], "."))
		}
		t = ft
		where = "in [" + strings.Join(key[:i+1], ".") + "]"
	}
	return fmt.Sprintf("unknown field %q", strings.Join(key, "."))
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.Tag.Get("toml") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tags(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		out = append(out, t.Field(i).Tag.Get("toml"))
	}
	return out
}
