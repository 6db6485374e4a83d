package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replica-0.key")
	k := DeriveKey([]byte("seed"), "replica/0")
	if err := WriteKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if want := "bftbed-ed25519-private-key\n" + fmt.Sprintf("%x\n", k.Seed()); string(data) != want {
		t.Fatalf("unexpected key file layout: %q", data)
	}
	got, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) {
		t.Fatal("key file did not round-trip")
	}

	// Overwriting replaces the file and keeps the mode; no temp files stay.
	k2 := DeriveKey([]byte("seed"), "replica/1")
	if err := WriteKeyFile(path, k2); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadKeyFile(path); err != nil || !got.Equal(k2) {
		t.Fatalf("after overwrite: %v, %v", got, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only the key file", len(ents))
	}
}

func TestWriteKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	if err := WriteKeyFile(filepath.Join(dir, "k"), PrivateKey{}); err == nil {
		t.Error("wrote the zero key")
	}
	if err := WriteKeyFile(filepath.Join(dir, "missing", "k"), DeriveKey(nil, "k")); err == nil {
		t.Error("wrote into a missing directory")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed writes left %d files behind", len(ents))
	}
}

func TestReadKeyFileTooOpen(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "k")
	if err := WriteKeyFile(path, DeriveKey(nil, "k")); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := ReadKeyFile(path)
		if !errors.Is(err, ErrKeyFilePermissions) {
			t.Fatalf("mode %04o: err = %v, want ErrKeyFilePermissions", mode, err)
		}
		if want := fmt.Sprintf("permissions %04o too open, want 0600", mode); !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not explain the permissions", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("error %q does not name the file", err)
		}
	}
	// Owner-only modes stricter than 0600 are fine.
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
}

func TestReadKeyFileErrors(t *testing.T) {
	seedHex := strings.Repeat("ab", 32)
	cases := []struct {
		name, content string
		want          error
	}{
		{"empty", "", ErrKeyFileHeader},
		{"no header", seedHex + "\n", ErrKeyFileHeader},
		{"wrong header", "ssh-ed25519-private-key\n" + seedHex + "\n", ErrKeyFileHeader},
		{"public key file", "bftbed-ed25519-public-key\n" + seedHex + "\n", ErrKeyFileHeader},
		{"header only", "bftbed-ed25519-private-key\n", ErrKeyFileEncoding},
		{"extra line", "bftbed-ed25519-private-key\n" + seedHex + "\n\n", ErrKeyFileEncoding},
		{"garbage", "bftbed-ed25519-private-key\nnot hex at all\n", ErrKeyFileEncoding},
		{"odd hex", "bftbed-ed25519-private-key\n" + seedHex[:63] + "\n", ErrKeyFileEncoding},
		{"short", "bftbed-ed25519-private-key\n" + seedHex[:62] + "\n", ErrKeyFileSize},
		{"long", "bftbed-ed25519-private-key\n" + seedHex + "00\n", ErrKeyFileSize},
		{"64-byte key", "bftbed-ed25519-private-key\n" + seedHex + seedHex + "\n", ErrKeyFileSize},
		{"huge", "bftbed-ed25519-private-key\n" + strings.Repeat("a", 10000), ErrKeyFileSize},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadKeyFile(path)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			if c.name == "huge" && !strings.Contains(err.Error(), "larger than 4096 bytes") {
				t.Fatalf("error %q does not say the file is too large", err)
			}
			if strings.Contains(err.Error(), "abab") {
				t.Fatalf("error %q quotes the key", err)
			}
		})
	}
	if _, err := ReadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := ReadKeyFile(dir); err == nil {
		t.Error("read a directory as a key")
	}
}

func TestReadKeyFileTolerant(t *testing.T) {
	seedHex := strings.Repeat("AB", 32) // upper case, CRLF, no final newline
	for _, content := range []string{
		"bftbed-ed25519-private-key\n" + seedHex,
		"bftbed-ed25519-private-key\r\n" + seedHex + "\r\n",
	} {
		path := filepath.Join(t.TempDir(), "k")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		k, err := ReadKeyFile(path)
		if err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		if !bytes.Equal(k.Seed(), bytes.Repeat([]byte{0xab}, 32)) {
			t.Fatalf("%q: wrong seed", content)
		}
	}
}

func TestPublicKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "replica-0.pub")
	p := DeriveKey([]byte("seed"), "replica/0").Public()
	if err := WritePublicKeyFile(path, p); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644) {
		t.Fatalf("stat: %v, %v", fi, err)
	}
	got, err := ReadPublicKeyFile(path)
	if err != nil || got != p {
		t.Fatalf("ReadPublicKeyFile = %v, %v; want %v", got, err, p)
	}
	// A private key file is not a public key file, and vice versa.
	priv := filepath.Join(dir, "k")
	if err := WriteKeyFile(priv, DeriveKey(nil, "k")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPublicKeyFile(priv); !errors.Is(err, ErrKeyFileHeader) {
		t.Errorf("read a private key as public: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); !errors.Is(err, ErrKeyFileHeader) {
		t.Errorf("read a public key as private: %v", err)
	}
}

// FuzzParseKeyFile checks that no key file content makes the parsers panic,
// and that whatever parses re-encodes to the same key.
func FuzzParseKeyFile(f *testing.F) {
	k := DeriveKey([]byte("seed"), "k")
	f.Add(marshalKeyFile(privateKeyHeader, k.Seed()))
	pub := k.Public()
	f.Add(marshalKeyFile(publicKeyHeader, pub[:]))
	f.Add([]byte("bftbed-ed25519-private-key\r\n00\r\n"))
	f.Add([]byte("bftbed-ed25519-private-key\n\n\n"))
	f.Add([]byte(""))
	f.Add([]byte("\n"))
	f.Add([]byte{0xff, 0x00, '\n', 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range []struct {
			header string
			size   int
		}{{privateKeyHeader, PrivateKeySeedSize}, {publicKeyHeader, PublicKeySize}} {
			key, err := parseKeyFile(h.header, h.size, data)
			if err != nil {
				if key != nil {
					t.Fatal("error with a key")
				}
				continue
			}
			if len(key) != h.size {
				t.Fatalf("parsed a %d-byte key, want %d", len(key), h.size)
			}
			again, err := parseKeyFile(h.header, h.size, marshalKeyFile(h.header, key))
			if err != nil || !bytes.Equal(again, key) {
				t.Fatalf("re-encoded key does not parse back: %v", err)
			}
			if h.size == PrivateKeySeedSize {
				if _, err := PrivateKeyFromSeed(key); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
