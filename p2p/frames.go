package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Wire format of a direct stream: a sequence of frames, each the uvarint
// length of its payload followed by the payload, one pbft.Marshal encoding.
// There is no other header: the stream's protocol ID carries the version and
// the cluster, and the secure channel says who the sender is.
//
// A uvarint rather than a fixed 4-byte length keeps the common small
// messages (PREPARE, COMMIT: ~150 bytes) one or two bytes shorter and costs
// nothing to parse; its length is capped like any other field.

// DefaultMaxFrameSize is the largest frame payload a host sends or accepts
// unless HostConfig.MaxFrameSize says otherwise: 16 MiB. It is well under
// pbft.MaxMessageSize (128 MiB), which bounds what the decoder accepts from
// disk too. A frame costs its full size in memory before it is decoded, so
// the transport's limit is what one peer can make a host allocate per
// stream. It still fits a full PRE-PREPARE batch of small requests and a
// STATE with a modest snapshot; a deployment with bigger application
// snapshots raises it.
const DefaultMaxFrameSize = 16 << 20

// maxUvarintLen is the most bytes a uvarint length prefix may take.
const maxUvarintLen = binary.MaxVarintLen64

// garbageError is a violation of the framing rules by the sender: a length
// prefix that is malformed, zero, or over the limit, or a payload the strict
// decoder rejects. It is the sender's fault (an I/O error is not), so it
// costs the sender its connection and some score.
type garbageError struct{ reason string }

func (e *garbageError) Error() string { return "p2p: garbage frame: " + e.reason }

func garbagef(format string, args ...any) error {
	return &garbageError{reason: fmt.Sprintf(format, args...)}
}

// errTruncated is a clean end of stream in the middle of a frame. An honest
// writer never does that: it resets a stream it gives up on (and a broken
// connection is an error, not an end of stream), and otherwise stops at a
// frame boundary.
var errTruncated = &garbageError{reason: "stream ends inside a frame"}

// isGarbage reports whether err blames the sender.
func isGarbage(err error) bool {
	var g *garbageError
	return errors.As(err, &g)
}

// newFrame returns the frame carrying data: its length prefix and a private
// copy of data in one allocation, so the writer needs one Write per frame
// and the caller may reuse data at once.
func newFrame(data []byte) []byte {
	f := make([]byte, 0, maxUvarintLen+len(data))
	f = binary.AppendUvarint(f, uint64(len(data)))
	return append(f, data...)
}

// readFrame reads one frame payload of at most max bytes from r into a new
// buffer, which the caller owns. It returns a *garbageError for a framing
// violation (a stream that ends inside a frame is one), io.EOF at a clean end
// of stream between frames, and other errors as they come.
// The length is checked before anything is allocated for the payload, so a
// lying prefix costs the reader nothing.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	var n uint64
	for i := 0; ; i++ {
		if i == maxUvarintLen {
			return nil, garbagef("length prefix longer than %d bytes", maxUvarintLen)
		}
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				return nil, errTruncated
			}
			return nil, err
		}
		if i == maxUvarintLen-1 && b > 1 {
			return nil, garbagef("length prefix overflows 64 bits")
		}
		n |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			if b == 0 && i > 0 {
				// The strict decoder rejects non-canonical
				// encodings; the framing does too.
				return nil, garbagef("non-minimal length prefix")
			}
			break
		}
		if n > uint64(max) {
			// Stop reading a prefix that is already too big.
			return nil, garbagef("length prefix over %d bytes", max)
		}
	}
	if n == 0 {
		return nil, garbagef("empty frame")
	}
	if n > uint64(max) {
		return nil, garbagef("frame of %d bytes, limit %d", n, max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errTruncated
		}
		return nil, err
	}
	return buf, nil
}
