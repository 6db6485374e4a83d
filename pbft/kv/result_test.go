package kv_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/pbft/kv"
)

func resultEqual(a, b kv.Result) bool {
	return a.OK == b.OK && a.Found == b.Found && bytes.Equal(a.Value, b.Value) && a.Err == b.Err
}

func TestResultRoundTrip(t *testing.T) {
	for _, r := range []kv.Result{
		{},
		{OK: true},
		{OK: true, Found: true, Value: []byte("value")},
		{Found: true, Value: []byte("current")},
		{OK: true, Value: bytes.Repeat([]byte("x"), kv.MaxValueSize)},
		{Err: "kv: something failed"},
	} {
		b := kv.EncodeResult(r)
		got, err := kv.DecodeResult(b)
		if err != nil {
			t.Fatalf("DecodeResult(EncodeResult(%v)): %v", r, err)
		}
		if !resultEqual(got, r) {
			t.Errorf("round trip of %v gave %v", r, got)
		}
		if again := kv.EncodeResult(got); !bytes.Equal(again, b) {
			t.Errorf("re-encoding %v differs", r)
		}
	}
	// Empty values decode as nil, so results compare simply.
	if got, _ := kv.DecodeResult(kv.EncodeResult(kv.Result{Value: []byte{}})); got.Value != nil {
		t.Errorf("empty Value decoded as %#v, want nil", got.Value)
	}
}

func TestDecodeResultRejects(t *testing.T) {
	ok := kv.EncodeResult(kv.Result{OK: true, Value: []byte("v")})
	cases := []struct {
		name string
		b    []byte
		msg  string
	}{
		{"empty", nil, "missing flags"},
		{"unknown flag", []byte{0x08, 0}, "unknown flags 0x8"},
		{"no value", []byte{0x01}, "truncated value length"},
		{"truncated value", ok[:len(ok)-1], "truncated value"},
		{"trailing", append(bytes.Clone(ok), 'x'), "1 trailing bytes"},
		{"err flag, no err", []byte{0x04, 0}, "truncated error length"},
		{"err flag, empty err", []byte{0x04, 0, 0}, "empty error message"},
		{"err over limit", append([]byte{0x04, 0, 0x81, 0x20}, make([]byte, 4097)...), "error length 4097 over the limit 4096"},
		{"non-minimal", []byte{0x01, 0x80, 0x00}, "non-minimal value length"},
		{"value over limit", []byte{0x01, 0x81, 0x80, 0x40}, "value length 1048577 over the limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := kv.DecodeResult(c.b)
			if err == nil {
				t.Fatalf("DecodeResult(%q) = %v, want error", c.b, r)
			}
			if !errors.Is(err, kv.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestResultString(t *testing.T) {
	if got, want := (kv.Result{OK: true, Found: true, Value: []byte("v")}).String(), `{OK:true Found:true Value:"v"}`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := (kv.Result{Err: "boom"}).String(), "error(boom)"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}
