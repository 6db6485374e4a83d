package pbft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/bftbed/bftbed/crypto"
)

// The replicated state at a checkpoint is the application's snapshot plus the
// client table (the paper keeps the last reply per client in the state, so
// that exactly-once survives state transfer).

// encodeState returns the snapshot bytes whose digest is the checkpoint's
// state digest. Clients are sorted so that equal states encode equally.
func encodeState(app []byte, clients clientTable) []byte {
	b := binary.AppendUvarint(nil, uint64(len(app)))
	b = append(b, app...)
	b = binary.AppendUvarint(b, uint64(len(clients)))
	ids := make([]ClientID, 0, len(clients))
	for id := range clients {
		ids = append(ids, id)
	}
	sortClientIDs(ids)
	for _, id := range ids {
		last := clients[id]
		b = append(b, id[:]...)
		b = binary.BigEndian.AppendUint64(b, last.ts)
		b = binary.AppendUvarint(b, uint64(len(last.result)))
		b = append(b, last.result...)
	}
	return b
}

var errBadState = errors.New("pbft: malformed state snapshot")

// decodeState is encodeState's strict inverse.
func decodeState(b []byte) (app []byte, clients clientTable, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, errBadState
	}
	b = b[k:]
	app, b = b[:n], b[n:]
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b))/(crypto.PublicKeySize+9) {
		return nil, nil, errBadState
	}
	b = b[k:]
	clients = make(clientTable, count)
	var prev ClientID
	for i := uint64(0); i < count; i++ {
		if len(b) < crypto.PublicKeySize+8 {
			return nil, nil, errBadState
		}
		var id ClientID
		copy(id[:], b)
		if i > 0 && !clientLess(prev, id) {
			return nil, nil, fmt.Errorf("%w: clients not in order", errBadState)
		}
		prev = id
		ts := binary.BigEndian.Uint64(b[crypto.PublicKeySize:])
		b = b[crypto.PublicKeySize+8:]
		rn, k := binary.Uvarint(b)
		if k <= 0 || rn > uint64(len(b)-k) {
			return nil, nil, errBadState
		}
		result := append([]byte(nil), b[k:k+int(rn)]...)
		b = b[k+int(rn):]
		clients[id] = lastReply{ts: ts, result: result}
	}
	if len(b) != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes", errBadState, len(b))
	}
	return app, clients, nil
}

// installState replaces the application state and the client table with a
// snapshot's.
func (r *Replica) installState(snap []byte) error {
	app, clients, err := decodeState(snap)
	if err != nil {
		return err
	}
	if err := r.app.Restore(app); err != nil {
		return fmt.Errorf("pbft: restore application snapshot: %w", err)
	}
	r.clients = clients
	return nil
}

func clientLess(a, b ClientID) bool { return bytes.Compare(a[:], b[:]) < 0 }

func sortClientIDs(ids []ClientID) {
	slices.SortFunc(ids, func(a, b ClientID) int { return bytes.Compare(a[:], b[:]) })
}
