package kv_test

import (
	"bytes"
	"testing"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

func FuzzDecodeOp(f *testing.F) {
	f.Add(kv.EncodePut([]byte("k"), []byte("v")))
	f.Add(kv.EncodeGet([]byte("key")))
	f.Add(kv.EncodeAppend(nil, []byte("tail")))
	f.Add(kv.EncodeCAS([]byte("k"), []byte("old"), []byte("new")))
	f.Add([]byte{byte(kv.OpGet), 0x80, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := kv.DecodeOp(data)
		if err != nil {
			// Executing it must give an error result, not a panic.
			r, derr := kv.DecodeResult(kv.New().Execute(1, []pbft.Operation{{Op: data}})[0])
			if derr != nil || r.Err == "" {
				t.Fatalf("bad op executed as %v, %v", r, derr)
			}
			return
		}
		if again := encode(op); !bytes.Equal(again, data) {
			t.Fatalf("DecodeOp(%x) = %+v re-encodes as %x", data, op, again)
		}
		// An accepted op always executes to a decodable result.
		if _, err := kv.DecodeResult(kv.New().Execute(1, []pbft.Operation{{Op: data}})[0]); err != nil {
			t.Fatalf("result of %+v: %v", op, err)
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	f.Add(kv.EncodeResult(kv.Result{}))
	f.Add(kv.EncodeResult(kv.Result{OK: true, Found: true, Value: []byte("v")}))
	f.Add(kv.EncodeResult(kv.Result{Err: "kv: error"}))
	f.Add([]byte{0x04, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := kv.DecodeResult(data)
		if err != nil {
			return
		}
		if again := kv.EncodeResult(r); !bytes.Equal(again, data) {
			t.Fatalf("DecodeResult(%x) = %v re-encodes as %x", data, r, again)
		}
	})
}

func FuzzRestore(f *testing.F) {
	f.Add(kv.New().Snapshot())
	s := kv.New()
	s.Execute(1, []pbft.Operation{
		{Op: kv.EncodePut([]byte("a"), []byte("1"))},
		{Op: kv.EncodePut([]byte("b"), nil)},
		{Op: kv.EncodePut(nil, []byte("empty key"))},
	})
	f.Add(s.Snapshot())
	f.Add([]byte("\x01\x02\x01a\x00\x01a\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := kv.New()
		s.Execute(1, []pbft.Operation{{Op: kv.EncodePut([]byte("keep"), []byte("me"))}})
		before := s.Snapshot()
		if err := s.Restore(data); err != nil {
			if !bytes.Equal(s.Snapshot(), before) {
				t.Fatal("failed Restore changed the state")
			}
			return
		}
		if again := s.Snapshot(); !bytes.Equal(again, data) {
			t.Fatalf("Restore(%x) then Snapshot gave %x", data, again)
		}
	})
}
