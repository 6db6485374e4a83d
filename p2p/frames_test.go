package p2p

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestReadFrame(t *testing.T) {
	const max = 100
	cases := []struct {
		name    string
		in      []byte
		want    []byte
		garbage bool
		err     error
	}{
		{name: "one frame", in: newFrame([]byte("hello")), want: []byte("hello")},
		{name: "largest", in: newFrame(bytes.Repeat([]byte{7}, max)), want: bytes.Repeat([]byte{7}, max)},
		{name: "clean end", in: nil, err: io.EOF},
		{name: "empty frame", in: []byte{0}, garbage: true},
		{name: "over the limit", in: newFrame(bytes.Repeat([]byte{7}, max+1)), garbage: true},
		{name: "huge prefix", in: binary.AppendUvarint(nil, 1<<62), garbage: true},
		{name: "prefix too long", in: bytes.Repeat([]byte{0x80}, 11), garbage: true},
		{name: "prefix overflows", in: append(bytes.Repeat([]byte{0xff}, 9), 2), garbage: true},
		{name: "non-minimal prefix", in: []byte{0x85, 0x00, 1, 2, 3, 4, 5}, garbage: true},
		{name: "truncated prefix", in: []byte{0x85}, garbage: true},
		{name: "truncated payload", in: []byte{5, 1, 2}, garbage: true},
	}
	for _, tc := range cases {
		got, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), max)
		switch {
		case tc.garbage:
			if !isGarbage(err) {
				t.Errorf("%s: got %q, %v; want garbage", tc.name, got, err)
			}
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			}
		case err != nil || !bytes.Equal(got, tc.want):
			t.Errorf("%s: got %q, %v", tc.name, got, err)
		}
	}
	// An I/O error is not the sender's fault.
	if _, err := readFrame(bufio.NewReader(io.MultiReader(bytes.NewReader([]byte{5, 1}), errReader{})), max); err == nil || isGarbage(err) {
		t.Errorf("I/O error: got %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// FuzzReadFrame: any byte stream yields frames within the limit, each one
// re-encoding to exactly the bytes read, until an error; it never panics.
func FuzzReadFrame(f *testing.F) {
	f.Add(newFrame([]byte("hello")))
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 1 << 10
		r := bufio.NewReader(bytes.NewReader(in))
		var out []byte
		for {
			p, err := readFrame(r, max)
			if err != nil {
				if err != io.EOF && !isGarbage(err) {
					t.Fatalf("unexpected error %v", err)
				}
				if err == io.EOF && !bytes.Equal(out, in) {
					t.Fatalf("clean end after %d of %d bytes", len(out), len(in))
				}
				return
			}
			if len(p) == 0 || len(p) > max {
				t.Fatalf("frame of %d bytes", len(p))
			}
			out = append(out, newFrame(p)...)
			if !bytes.HasPrefix(in, out) {
				t.Fatal("frames do not re-encode to the input")
			}
		}
	})
}
