package kv

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Size limits, checked when an operation is decoded (and by Append on the
// value it would produce), so one request cannot make every replica hold or
// copy an unbounded amount of memory.
const (
	MaxKeySize   = 4 << 10 // bytes in a key
	MaxValueSize = 1 << 20 // bytes in a value, CAS expected value, or result value
)

// ErrMalformed is wrapped by every decoding error (operation, result,
// snapshot), so callers can tell bad input from other failures with
// errors.Is.
var ErrMalformed = errors.New("kv: malformed")

// OpKind says which operation an Op is. The values are part of the wire
// format.
type OpKind uint8

// The operations.
const (
	OpPut    OpKind = 1 // set Key to Value
	OpGet    OpKind = 2 // read Key
	OpAppend OpKind = 3 // append Value to Key's value
	OpCAS    OpKind = 4 // set Key to Value if its value equals Expected
)

// String returns the operation's name, or "OpKind(n)" for unknown kinds.
func (k OpKind) String() string {
	switch k {
	case OpPut:
		return "Put"
	case OpGet:
		return "Get"
	case OpAppend:
		return "Append"
	case OpCAS:
		return "CAS"
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is a decoded operation. Fields an operation does not use are nil:
// Value for Get, Expected for all but CAS (where Value is the new value).
type Op struct {
	Kind     OpKind
	Key      []byte
	Value    []byte
	Expected []byte
}

// The operation encoding is the kind byte followed by its fields in order,
// each a minimal uvarint length and the bytes:
//
//	Put    1 key value
//	Get    2 key
//	Append 3 key value
//	CAS    4 key expected new
//
// Sizes are not checked here but when the op is decoded, so an oversized op
// becomes an error result rather than a panic in a client.

// EncodePut encodes Put(key, value): set key to value.
func EncodePut(key, value []byte) []byte {
	return encodeOp(OpPut, key, value)
}

// EncodeGet encodes Get(key): read key's value.
func EncodeGet(key []byte) []byte {
	return encodeOp(OpGet, key)
}

// EncodeAppend encodes Append(key, value): append value to key's value (an
// absent key counts as empty); the result carries the new value.
func EncodeAppend(key, value []byte) []byte {
	return encodeOp(OpAppend, key, value)
}

// EncodeCAS encodes CAS(key, expected, new): set key to new if its value
// equals expected (an absent key counts as empty); the result says whether it
// swapped and carries the value after the operation.
func EncodeCAS(key, expected, new []byte) []byte {
	return encodeOp(OpCAS, key, expected, new)
}

// encodeOp encodes the kind byte and the fields, allocating once.
func encodeOp(kind OpKind, fields ...[]byte) []byte {
	n := 1
	for _, f := range fields {
		n += binary.MaxVarintLen64 + len(f)
	}
	b := append(make([]byte, 0, n), byte(kind))
	for _, f := range fields {
		b = appendField(b, f)
	}
	return b
}

// appendField appends one field: its minimal uvarint length, then its bytes.
func appendField(b, field []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(field)))
	return append(b, field...)
}

// DecodeOp decodes an operation encoded by one of the Encode functions. It is
// strict, so that only one byte string means a given operation: it rejects an
// unknown kind, truncated or trailing bytes, non-minimal lengths, and keys or
// values over the limits. Empty fields decode as nil; the others alias b.
func DecodeOp(b []byte) (Op, error) {
	if len(b) == 0 {
		return Op{}, fmt.Errorf("%w op: empty", ErrMalformed)
	}
	op := Op{Kind: OpKind(b[0])}
	r := reader{b: b[1:], what: "op"}
	switch op.Kind {
	case OpPut, OpAppend:
		op.Key = r.field("key", MaxKeySize)
		op.Value = r.field("value", MaxValueSize)
	case OpGet:
		op.Key = r.field("key", MaxKeySize)
	case OpCAS:
		op.Key = r.field("key", MaxKeySize)
		op.Expected = r.field("expected value", MaxValueSize)
		op.Value = r.field("new value", MaxValueSize)
	default:
		return Op{}, fmt.Errorf("%w op: unknown kind %d", ErrMalformed, b[0])
	}
	if err := r.done(); err != nil {
		return Op{}, err
	}
	return op, nil
}

// reader decodes length-prefixed fields, remembering the first error so
// that decoders can read every field and check once at the end.
type reader struct {
	b    []byte
	what string // "op", "result", "snapshot": prefix of error messages
	err  error
}

// uvarint reads a minimal uvarint no larger than max. name+suffix names it
// in errors; they are separate so that the success path does not allocate.
func (r *reader) uvarint(name, suffix string, max uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		r.fail("truncated %s%s", name, suffix)
	case n < 0:
		r.fail("%s%s overflows", name, suffix)
	case n > 1 && r.b[n-1] == 0:
		// A minimal uvarint never ends in a zero byte (except 0 itself);
		// rejecting padded lengths keeps the encoding canonical.
		r.fail("non-minimal %s%s", name, suffix)
	case v > max:
		r.fail("%s%s %d over the limit %d", name, suffix, v, max)
	default:
		r.b = r.b[n:]
		return v
	}
	return 0
}

// field reads one length-prefixed field of at most max bytes.
func (r *reader) field(name string, max int) []byte {
	n := r.uvarint(name, " length", uint64(max))
	if r.err != nil {
		return nil
	}
	if uint64(len(r.b)) < n {
		r.fail("truncated %s: %d of %d bytes", name, len(r.b), n)
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	if n == 0 {
		return nil
	}
	return f
}

// byte1 reads one byte.
func (r *reader) byte1(name string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("missing %s", name)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) fail(format string, args ...any) {
	r.err = fmt.Errorf("%w %s: %s", ErrMalformed, r.what, fmt.Sprintf(format, args...))
}

// done returns the first error, or an error if bytes are left over.
func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}
