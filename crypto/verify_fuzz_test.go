package crypto

import "testing"

// FuzzVerify feeds arbitrary keys, signatures and messages to every
// verifier: none may panic, and batch verification must agree with single
// verification on the fuzzed item while still accepting its valid
// neighbours.
func FuzzVerify(f *testing.F) {
	d := NewDomain("fuzz")
	k := DeriveKey([]byte("fuzz"), "k")
	pub := k.Public()
	sig := d.Sign(k, 1, []byte("m"))
	f.Add(pub[:], sig[:], byte(1), []byte("m"))
	f.Add(make([]byte, 32), make([]byte, 64), byte(0), []byte(nil))
	f.Add(smallOrderKeys[3][:], append(append([]byte(nil), basepoint...), 1), byte(0), []byte("x"))
	f.Add([]byte{1}, []byte{2}, byte(3), []byte("short"))

	good := validItems(d, 4)
	f.Fuzz(func(t *testing.T, keyBytes, sigBytes []byte, tag byte, msg []byte) {
		var it VerifyItem
		copy(it.Key[:], keyBytes)
		copy(it.Sig[:], sigBytes)
		it.Tag, it.Msg = tag, msg

		single := d.Verify(it.Key, it.Tag, it.Msg, it.Sig)
		items := []VerifyItem{good[0], good[1], it, good[2], good[3]}
		ok, all := d.VerifyBatch(items)
		if ok[2] != single || all != single {
			t.Fatalf("batch says %v (all %v), single says %v", ok[2], all, single)
		}
		for _, i := range []int{0, 1, 3, 4} {
			if !ok[i] {
				t.Fatalf("valid neighbour %d rejected", i)
			}
		}
		if pok, pall := d.VerifyParallel(append(items, good...), 2); pok[2] != single || pall != single {
			t.Fatalf("parallel says %v, single says %v", pok[2], single)
		}
	})
}
