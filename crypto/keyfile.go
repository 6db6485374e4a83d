package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// Key file headers: the first line of a key file names what it holds, so a
// public key file, a key of another scheme or a stray file is refused
// instead of being read as a seed.
const (
	privateKeyHeader = "bftbed-ed25519-private-key"
	publicKeyHeader  = "bftbed-ed25519-public-key"
)

// maxKeyFileSize caps how much of a key file is read; real ones are ~92 bytes.
const maxKeyFileSize = 4096

// Errors from ReadKeyFile and ReadPublicKeyFile, wrapped with the path and
// details; test for them with errors.Is.
var (
	// ErrKeyFilePermissions: a private key file is readable or writable
	// by group or others.
	ErrKeyFilePermissions = errors.New("insecure key file")
	// ErrKeyFileHeader: the first line is not the expected type header.
	ErrKeyFileHeader = errors.New("wrong key file type")
	// ErrKeyFileEncoding: the file is not the two-line header-and-hex
	// layout, or the hex does not decode.
	ErrKeyFileEncoding = errors.New("undecodable key file")
	// ErrKeyFileSize: the decoded key, or the file, has the wrong size.
	ErrKeyFileSize = errors.New("wrong key size")
)

// WriteKeyFile stores k at path as
//
//	bftbed-ed25519-private-key
//	<64 hex digits: the seed>
//
// with mode 0600. The file is written under a temporary name in the same
// directory and renamed over path, so an existing file is replaced
// atomically and a reader never sees a partial key.
func WriteKeyFile(path string, k PrivateKey) error {
	if k.IsZero() {
		return fmt.Errorf("crypto: write key file %s: %w", path, errZeroKey)
	}
	if err := writeFileAtomic(path, marshalKeyFile(privateKeyHeader, k.key[:PrivateKeySeedSize]), 0o600); err != nil {
		return fmt.Errorf("crypto: write key file %s: %w", path, err)
	}
	return nil
}

// ReadKeyFile reads a private key written by [WriteKeyFile]. It refuses a
// file that group or others may access (mode & 0077 != 0), as ssh does,
// because a readable seed is a leaked key. Errors name path and wrap one of
// the ErrKeyFile* errors.
func ReadKeyFile(path string) (PrivateKey, error) {
	data, err := readKeyFile(path, true)
	if err == nil {
		var seed []byte
		if seed, err = parseKeyFile(privateKeyHeader, PrivateKeySeedSize, data); err == nil {
			return PrivateKeyFromSeed(seed)
		}
	}
	return PrivateKey{}, fmt.Errorf("crypto: read key file %s: %w", path, err)
}

// WritePublicKeyFile stores p at path as
//
//	bftbed-ed25519-public-key
//	<64 hex digits>
//
// with mode 0644, replacing any existing file atomically.
func WritePublicKeyFile(path string, p PublicKey) error {
	if err := writeFileAtomic(path, marshalKeyFile(publicKeyHeader, p[:]), 0o644); err != nil {
		return fmt.Errorf("crypto: write public key file %s: %w", path, err)
	}
	return nil
}

// ReadPublicKeyFile reads a public key written by [WritePublicKeyFile].
func ReadPublicKeyFile(path string) (PublicKey, error) {
	var p PublicKey
	data, err := readKeyFile(path, false)
	if err == nil {
		var b []byte
		if b, err = parseKeyFile(publicKeyHeader, PublicKeySize, data); err == nil {
			copy(p[:], b)
			return p, nil
		}
	}
	return p, fmt.Errorf("crypto: read public key file %s: %w", path, err)
}

func marshalKeyFile(header string, key []byte) []byte {
	b := make([]byte, 0, len(header)+2*len(key)+2)
	b = append(b, header...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, key)
	return append(b, '\n')
}

// parseKeyFile decodes the two lines "header\n<hex>\n" into a key of size
// bytes. It tolerates CRLF line ends and a missing final newline, nothing
// else. Error messages never quote the file: it may hold a secret.
func parseKeyFile(header string, size int, data []byte) ([]byte, error) {
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	if string(lines[0]) != header {
		other := privateKeyHeader
		if header == privateKeyHeader {
			other = publicKeyHeader
		}
		if string(lines[0]) == other {
			return nil, fmt.Errorf("%w: this is a %s file, want %s", ErrKeyFileHeader, other, header)
		}
		return nil, fmt.Errorf("%w: first line is not %q", ErrKeyFileHeader, header)
	}
	if len(lines) != 2 {
		return nil, fmt.Errorf("%w: %d lines, want 2 (header and hex key)", ErrKeyFileEncoding, len(lines))
	}
	key := make([]byte, hex.DecodedLen(len(lines[1])))
	if _, err := hex.Decode(key, lines[1]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFileEncoding, err)
	}
	if len(key) != size {
		return nil, fmt.Errorf("%w: key is %d bytes, want %d", ErrKeyFileSize, len(key), size)
	}
	return key, nil
}

// readKeyFile reads at most maxKeyFileSize bytes of path. With private set
// it first checks, on the open file so it cannot be swapped in between,
// that only the owner can access it.
func readKeyFile(path string, private bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file (%s)", ErrKeyFileEncoding, fi.Mode().Type())
	}
	// Windows has no Unix permission bits; Go reports 0666 for any
	// writable file there, so the check would refuse every key.
	if perm := fi.Mode().Perm(); private && runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: permissions %04o too open, want 0600", ErrKeyFilePermissions, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: file larger than %d bytes", ErrKeyFileSize, maxKeyFileSize)
	}
	return data, nil
}

// writeFileAtomic writes data to a new temporary file next to path, syncs
// it, sets perm and renames it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp makes the file with mode 0600, so a private key is never
	// readable by others, not even before the Chmod.
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename durable. Best effort: some systems cannot sync a
	// directory, and the key itself is already safely written.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
