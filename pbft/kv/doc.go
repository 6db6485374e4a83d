// Package kv is a small deterministic key-value store that implements
// pbft.Application. bftbed uses it in its tests, benchmarks and
// linearizability checks, and as the example of embedding the engine.
//
// Clients build operations with EncodePut, EncodeGet, EncodeAppend and
// EncodeCAS, send them through the engine, and read the replies with
// DecodeResult. Every encoding (operation, result, snapshot) is canonical:
// a decoder accepts only bytes its encoder produces, and each value has one
// encoding, so equal values always have equal bytes, which replicas rely on
// when they compare replies and checkpoint digests.
//
// An absent key behaves as the empty value for Append and CAS; Result.Found
// tells the two apart.
package kv
