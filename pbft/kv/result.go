package kv

import (
	"encoding/binary"
	"fmt"
)

// Result is the outcome of one operation, as returned (encoded) by
// Store.Execute.
//
//	        OK               Found                   Value
//	Put     true             key existed before      nil
//	Get     true             key exists              its value (nil if absent)
//	Append  true             key existed before      the new value
//	CAS     swapped          key existed before      the value after the op
//
// An operation that fails (it does not decode, or Append would exceed
// MaxValueSize) changes nothing and has OK false, Found false, Value nil and
// Err set. Err is empty exactly when the operation ran. Found lets a client
// tell an absent key from an empty value, which Append and CAS treat alike.
// Err messages depend only on the operation's bytes, so correct replicas
// send identical replies that a client can match.
type Result struct {
	OK    bool
	Found bool
	Value []byte
	Err   string
}

// maxErrSize bounds Result.Err in DecodeResult; the store's messages are far
// shorter, so a longer one is garbage.
const maxErrSize = 4 << 10

// Flag bits of the first byte of an encoded result.
const (
	flagOK    = 1 << 0
	flagFound = 1 << 1
	flagErr   = 1 << 2 // an Err field follows the value
	flagsAll  = flagOK | flagFound | flagErr
)

// EncodeResult encodes r as a flags byte (OK, Found, has-Err), the
// length-prefixed Value and, if Err is not empty, the length-prefixed Err.
// Empty and nil Values encode alike. DecodeResult rejects a Value over
// MaxValueSize or an Err over 4 KiB; the store never produces either.
func EncodeResult(r Result) []byte {
	var flags byte
	if r.OK {
		flags |= flagOK
	}
	if r.Found {
		flags |= flagFound
	}
	n := 1 + binary.MaxVarintLen64 + len(r.Value)
	if r.Err != "" {
		flags |= flagErr
		n += binary.MaxVarintLen64 + len(r.Err)
	}
	b := append(make([]byte, 0, n), flags)
	b = appendField(b, r.Value)
	if r.Err != "" {
		b = appendField(b, []byte(r.Err))
	}
	return b
}

// DecodeResult decodes a result encoded by EncodeResult. It is strict: it
// rejects unknown flag bits, truncated or trailing bytes, non-minimal
// lengths, a Value over MaxValueSize, and an Err flag with an empty or
// over-long (4 KiB) message. An empty Value decodes as nil; a non-empty one
// aliases b.
func DecodeResult(b []byte) (Result, error) {
	r := reader{b: b, what: "result"}
	flags := r.byte1("flags")
	if r.err == nil && flags&^flagsAll != 0 {
		return Result{}, fmt.Errorf("%w result: unknown flags %#x", ErrMalformed, flags)
	}
	res := Result{OK: flags&flagOK != 0, Found: flags&flagFound != 0}
	res.Value = r.field("value", MaxValueSize)
	if flags&flagErr != 0 {
		msg := r.field("error", maxErrSize)
		if r.err == nil && len(msg) == 0 {
			r.fail("empty error message")
		}
		res.Err = string(msg)
	}
	if err := r.done(); err != nil {
		return Result{}, err
	}
	return res, nil
}

// String formats the result for logs and test failures.
func (r Result) String() string {
	if r.Err != "" {
		return fmt.Sprintf("error(%s)", r.Err)
	}
	return fmt.Sprintf("{OK:%t Found:%t Value:%q}", r.OK, r.Found, r.Value)
}
