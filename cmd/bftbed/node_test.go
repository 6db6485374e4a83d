package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNodeStartupErrors: a node that cannot start exits 2 with a message
// that says why (and, for a configuration mistake, where).
func TestNodeStartupErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("id = 0\ncluster = \"x\"\nbroadcst = \"direct\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", bad}, "line 3"},
		{[]string{"--config", filepath.Join(dir, "missing.toml")}, "no such file"},
		{[]string{}, `required flag(s) "config" not set`},
	} {
		cmd := nodeCommand()
		cmd.SetArgs(tc.args)
		cmd.SetOut(&strings.Builder{})
		cmd.SetErr(&strings.Builder{})
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("node %v: %v; want an error saying %q", tc.args, err, tc.want)
			continue
		}
		var ee *exitError
		if len(tc.args) > 0 && (!errors.As(err, &ee) || ee.code != 2) {
			t.Errorf("node %v: exit code of %v, want 2", tc.args, err)
		}
	}
}
