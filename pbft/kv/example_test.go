package kv_test

import (
	"fmt"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// Execute a committed batch holding a Put then a Get, as the engine would,
// and decode the replies as a client would.
func Example() {
	store := kv.New()
	var app pbft.Application = store

	batch := []pbft.Operation{
		{Timestamp: 1, Op: kv.EncodePut([]byte("greeting"), []byte("hello"))},
		{Timestamp: 2, Op: kv.EncodeGet([]byte("greeting"))},
	}
	for i, reply := range app.Execute(1, batch) {
		r, err := kv.DecodeResult(reply)
		if err != nil {
			panic(err)
		}
		fmt.Printf("op %d: %v\n", i, r)
	}
	fmt.Println("keys:", store.Len())
	// Output:
	// op 0: {OK:true Found:false Value:""}
	// op 1: {OK:true Found:true Value:"hello"}
	// keys: 1
}
