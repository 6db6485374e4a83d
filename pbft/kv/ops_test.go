package kv_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/bftbed/bftbed/pbft/kv"
)

// encode re-encodes a decoded op with the matching constructor.
func encode(op kv.Op) []byte {
	switch op.Kind {
	case kv.OpPut:
		return kv.EncodePut(op.Key, op.Value)
	case kv.OpGet:
		return kv.EncodeGet(op.Key)
	case kv.OpAppend:
		return kv.EncodeAppend(op.Key, op.Value)
	case kv.OpCAS:
		return kv.EncodeCAS(op.Key, op.Expected, op.Value)
	}
	panic("unknown kind " + op.Kind.String())
}

func opEqual(a, b kv.Op) bool {
	return a.Kind == b.Kind && bytes.Equal(a.Key, b.Key) &&
		bytes.Equal(a.Value, b.Value) && bytes.Equal(a.Expected, b.Expected)
}

func TestOpRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte("v"), kv.MaxValueSize)
	bigKey := bytes.Repeat([]byte("k"), kv.MaxKeySize)
	cases := []struct {
		enc  []byte
		want kv.Op
	}{
		{kv.EncodePut([]byte("k"), []byte("v")), kv.Op{Kind: kv.OpPut, Key: []byte("k"), Value: []byte("v")}},
		{kv.EncodePut(nil, nil), kv.Op{Kind: kv.OpPut}},
		{kv.EncodePut(bigKey, big), kv.Op{Kind: kv.OpPut, Key: bigKey, Value: big}},
		{kv.EncodeGet([]byte("key")), kv.Op{Kind: kv.OpGet, Key: []byte("key")}},
		{kv.EncodeAppend([]byte("k"), []byte("tail")), kv.Op{Kind: kv.OpAppend, Key: []byte("k"), Value: []byte("tail")}},
		{kv.EncodeCAS([]byte("k"), []byte("old"), []byte("new")), kv.Op{Kind: kv.OpCAS, Key: []byte("k"), Expected: []byte("old"), Value: []byte("new")}},
		{kv.EncodeCAS([]byte("k"), nil, []byte("new")), kv.Op{Kind: kv.OpCAS, Key: []byte("k"), Value: []byte("new")}},
	}
	for _, c := range cases {
		got, err := kv.DecodeOp(c.enc)
		if err != nil {
			t.Fatalf("DecodeOp(%s): %v", c.want.Kind, err)
		}
		if !opEqual(got, c.want) {
			t.Errorf("DecodeOp = %+v, want %+v", got, c.want)
		}
		if again := encode(got); !bytes.Equal(again, c.enc) {
			t.Errorf("%s: re-encoding differs", c.want.Kind)
		}
	}
}

func TestOpEncodingIsCompact(t *testing.T) {
	// kind, 1-byte key length, key, 1-byte value length, value.
	if got, want := kv.EncodePut([]byte("key"), []byte("val")), []byte("\x01\x03key\x03val"); !bytes.Equal(got, want) {
		t.Errorf("EncodePut = %q, want %q", got, want)
	}
	if got, want := kv.EncodeGet([]byte("k")), []byte("\x02\x01k"); !bytes.Equal(got, want) {
		t.Errorf("EncodeGet = %q, want %q", got, want)
	}
}

func TestDecodeOpRejects(t *testing.T) {
	put := kv.EncodePut([]byte("k"), []byte("v"))
	overKey := kv.EncodeGet(bytes.Repeat([]byte("k"), kv.MaxKeySize+1))
	overValue := kv.EncodePut([]byte("k"), bytes.Repeat([]byte("v"), kv.MaxValueSize+1))
	overExpected := kv.EncodeCAS([]byte("k"), bytes.Repeat([]byte("v"), kv.MaxValueSize+1), nil)
	huge := binary.AppendUvarint([]byte{byte(kv.OpGet)}, 1<<62)
	overflow := append([]byte{byte(kv.OpGet)}, bytes.Repeat([]byte{0xff}, 10)...)
	overflow = append(overflow, 0x01)
	cases := []struct {
		name string
		b    []byte
		msg  string
	}{
		{"empty", nil, "empty"},
		{"kind 0", []byte{0, 0}, "unknown kind 0"},
		{"kind 5", []byte{5, 0}, "unknown kind 5"},
		{"no key length", []byte{byte(kv.OpGet)}, "truncated key length"},
		{"truncated key", []byte{byte(kv.OpGet), 3, 'a'}, "truncated key"},
		{"missing value", []byte{byte(kv.OpPut), 1, 'k'}, "truncated value length"},
		{"truncated value", put[:len(put)-1], "truncated value"},
		{"cas missing new", []byte{byte(kv.OpCAS), 1, 'k', 0}, "truncated new value length"},
		{"trailing", append(bytes.Clone(put), 0), "1 trailing bytes"},
		{"get with value", append(kv.EncodeGet([]byte("k")), 1, 'v'), "2 trailing bytes"},
		{"non-minimal length", []byte{byte(kv.OpGet), 0x81, 0x00, 'k'}, "non-minimal key length"},
		{"non-minimal zero", []byte{byte(kv.OpGet), 0x80, 0x00}, "non-minimal key length"},
		{"key over limit", overKey, "key length 4097 over the limit 4096"},
		{"value over limit", overValue, "value length 1048577 over the limit 1048576"},
		{"expected over limit", overExpected, "expected value length"},
		{"huge length", huge, "over the limit"},
		{"overflowing length", overflow, "overflows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, err := kv.DecodeOp(c.b)
			if err == nil {
				t.Fatalf("DecodeOp(%q) = %+v, want error", c.b, op)
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

func TestOpKindString(t *testing.T) {
	for k, want := range map[kv.OpKind]string{kv.OpPut: "Put", kv.OpGet: "Get", kv.OpAppend: "Append", kv.OpCAS: "CAS", 9: "OpKind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("OpKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
