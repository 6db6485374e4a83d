package sim

import (
	"flag"
	"fmt"
	"testing"
)

var (
	flagSeed  = flag.Uint64("sim.seed", 1, "seed of the run TestReplay replays")
	flagN     = flag.Int("sim.n", 4, "replicas in TestReplay")
	flagSeeds = flag.Int("sim.seeds", 60, "seeds per replica count in TestSweep (make sweep runs 500)")
	flagTrace = flag.Bool("sim.trace", false, "print every event of TestReplay")
	flagMix   = flag.String("sim.mix", "default", "fault mix of TestReplay: default or crash-recover")
)

// TestReplay runs one seed, as printed by a failing sweep.
func TestReplay(t *testing.T) {
	opts, err := MixOptions(*flagMix, *flagSeed, *flagN)
	if err != nil {
		t.Fatal(err)
	}
	if *flagTrace {
		opts.Trace = func(line string) { t.Log(line) }
	}
	res, err := Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	for _, st := range res.Stats.Final {
		t.Logf("%+v", st)
	}
	report(t, res)
}

func report(t *testing.T, res *Result) {
	t.Helper()
	for _, v := range res.Violations {
		t.Errorf("%s", v)
	}
	if !res.Progress {
		t.Errorf("no progress after the faults stopped")
	}
	if res.Failed() {
		t.Errorf("replay with: %s", res.ReplayCommand())
	}
}

// TestSweep runs many seeds at n = 4 and n = 7, with 20% loss, duplication
// and reordering and up to f crashed replicas in the fault window, and
// checks agreement, exactly-once and progress after the faults stop.
func TestSweep(t *testing.T) {
	seeds := *flagSeeds
	if testing.Short() {
		seeds = 20
	}
	for _, n := range []int{4, 7} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			t.Parallel()
			var ops, views, crashes, failures int
			for seed := 1; seed <= seeds; seed++ {
				res, err := Run(DefaultOptions(uint64(seed), n))
				if err != nil {
					t.Fatal(err)
				}
				ops += res.Stats.OpsCompleted
				views += int(res.Stats.MaxView)
				crashes += res.Stats.Crashes
				if res.Failed() {
					failures++
					t.Errorf("seed %d: %s", seed, res.Summary())
					report(t, res)
				}
			}
			t.Logf("n=%d: %d seeds, %d client ops, %d view changes, %d crashes, %d failed runs", n, seeds, ops, views, crashes, failures)
		})
	}
}

var flagRecoverSeeds = flag.Int("sim.recover-seeds", 60, "seeds in TestSweepCrashRecover (make sweep runs 300)")

// TestSweepCrashRecover checks agreement, exactly-once, no equivocation by
// recovered replicas, and progress, under power cuts with Pebble storage.
func TestSweepCrashRecover(t *testing.T) {
	seeds := *flagRecoverSeeds
	if testing.Short() {
		seeds = 10
	}
	var crashes, failures int
	var disk uint64
	for seed := 1; seed <= seeds; seed++ {
		res, err := Run(CrashRecoverOptions(uint64(seed), 4))
		if err != nil {
			t.Fatal(err)
		}
		crashes += res.Stats.Crashes
		disk = max(disk, res.Stats.DiskBytes)
		if res.Failed() {
			failures++
			t.Errorf("seed %d: %s", seed, res.Summary())
			report(t, res)
		}
	}
	t.Logf("crash-recover n=4: %d seeds, %d power cuts, largest replica store %d KiB, %d failed runs", seeds, crashes, disk>>10, failures)
}
