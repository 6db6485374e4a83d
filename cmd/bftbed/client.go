package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/bftbed/bftbed/bench/load"
	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft/kv"
)

func clientCommand() *cobra.Command {
	var (
		dir     string
		keyFile string
		timeout time.Duration
		asJSON  bool
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "client --testnet DIR (put KEY VALUE | get KEY | append KEY VALUE | cas KEY OLD NEW)",
		Short: "Run one key-value operation on a testnet and print its result",
		Long: `Run one operation on the testnet's key-value store through the PBFT
client protocol over libp2p: the result is printed once f+1 replicas sent
matching signed replies.

  put KEY VALUE        set KEY; prints "ok" (and whether it replaced a value)
  get KEY              prints the value (exit 0 with "(not found)" on stderr if absent)
  append KEY VALUE     append to KEY's value; prints the new value
  cas KEY OLD NEW      set KEY to NEW if its value is OLD; prints swapped or not

Each invocation uses a fresh client key unless --key is given. With no
result within --timeout it exits 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, err := encodeClientOp(args)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if dir == "" {
				return &exitError{code: 2, err: errors.New("--testnet DIR is required")}
			}
			d, err := loadTestnet(dir)
			if err != nil {
				return err
			}
			peers, err := d.Peers()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			key, err := clientKey(keyFile)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			var logger *slog.Logger
			if verbose {
				logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			c, err := load.DialP2P(d.Cluster, peers, key, 0, logger)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer c.Close()
			start := time.Now()
			raw, ts, err := c.Invoke(ctx, op)
			took := time.Since(start)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					return &exitError{code: 1, err: fmt.Errorf("no result from testnet %q within %s: are its nodes up? (bftbed testnet status %s)", d.Cluster, timeout, dir)}
				}
				return &exitError{code: 1, err: err}
			}
			res, err := kv.DecodeResult(raw)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("undecodable result: %w", err)}
			}
			if asJSON {
				return printResultJSON(cmd.OutOrStdout(), args[0], res, c.ID(), ts, took)
			}
			if verbose {
				fmt.Fprintf(cmd.ErrOrStderr(), "client %s, request %d, result after %s\n", c.ID()[:16], ts, took.Round(time.Microsecond))
			}
			return printResult(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "testnet", "", "testnet directory (made by 'bftbed testnet init')")
	f.StringVar(&keyFile, "key", "", "client key file (default: a fresh key)")
	f.DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long without a result")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (with client, request timestamp and latency)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log connection problems and print the latency")
	return cmd
}

// encodeClientOp encodes the operation named by args.
func encodeClientOp(args []string) ([]byte, error) {
	want := map[string]int{"put": 3, "get": 2, "append": 3, "cas": 4}
	n, ok := want[args[0]]
	if !ok {
		return nil, fmt.Errorf("unknown operation %q: want put, get, append or cas", args[0])
	}
	if len(args) != n {
		usage := map[string]string{"put": "put KEY VALUE", "get": "get KEY", "append": "append KEY VALUE", "cas": "cas KEY OLD NEW"}
		return nil, fmt.Errorf("usage: bftbed client --testnet DIR %s", usage[args[0]])
	}
	b := func(i int) []byte { return []byte(args[i]) }
	switch args[0] {
	case "put":
		return kv.EncodePut(b(1), b(2)), nil
	case "get":
		return kv.EncodeGet(b(1)), nil
	case "append":
		return kv.EncodeAppend(b(1), b(2)), nil
	}
	return kv.EncodeCAS(b(1), b(2), b(3)), nil
}

// clientKey reads the key file, or makes a fresh key.
func clientKey(path string) (crypto.PrivateKey, error) {
	if path != "" {
		return crypto.ReadKeyFile(path)
	}
	return crypto.GenerateKey()
}

// printResult prints a result for a person (and for shell scripts: get
// prints the bare value).
func printResult(out, errOut io.Writer, op string, r kv.Result) error {
	if r.Err != "" {
		return &exitError{code: 1, err: fmt.Errorf("%s failed: %s", op, r.Err)}
	}
	switch op {
	case "put":
		if r.Found {
			fmt.Fprintln(out, "ok (replaced the previous value)")
		} else {
			fmt.Fprintln(out, "ok (new key)")
		}
	case "get":
		if !r.Found {
			fmt.Fprintln(errOut, "(not found)")
			return nil
		}
		fmt.Fprintln(out, string(r.Value))
	case "append":
		fmt.Fprintln(out, string(r.Value))
	case "cas":
		if r.OK {
			fmt.Fprintln(out, "swapped")
		} else {
			fmt.Fprintf(out, "not swapped: the value is %s\n", strconv.Quote(string(r.Value)))
		}
	}
	return nil
}

// printResultJSON prints the result as one JSON object.
func printResultJSON(out io.Writer, op string, r kv.Result, client string, ts uint64, took time.Duration) error {
	doc := struct {
		Op        string  `json:"op"`
		OK        bool    `json:"ok"`
		Found     bool    `json:"found"`
		Value     string  `json:"value"`
		Err       string  `json:"err,omitempty"`
		Client    string  `json:"client"`
		Timestamp uint64  `json:"ts"`
		LatencyMS float64 `json:"latency_ms"`
	}{op, r.OK, r.Found, string(r.Value), r.Err, client, ts, float64(took.Microseconds()) / 1000}
	enc := json.NewEncoder(out)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if r.Err != "" {
		return &exitError{code: 1, err: errors.New(r.Err)}
	}
	return nil
}
