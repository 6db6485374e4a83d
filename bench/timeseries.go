package bench

import (
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
)

// timeseriesHeader is the header row of timeseries.csv.
var timeseriesHeader = []string{
	"t_s", "node", "view", "view_changing", "last_executed", "committed",
	"stable_seq", "msgs_sent", "bytes_sent", "msgs_recv", "bytes_recv",
	"cpu_s", "rss_bytes",
}

// writeTimeseries writes one row per sample (interval and node), in time
// then node order, with a header row.
func writeTimeseries(w io.Writer, r *Result) error {
	ss := slices.Clone(r.Samples)
	slices.SortStableFunc(ss, func(a, b Sample) int {
		if c := cmp.Compare(a.At, b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Node, b.Node)
	})
	cw := csv.NewWriter(w)
	if err := cw.Write(timeseriesHeader); err != nil {
		return err
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for _, s := range ss {
		row := []string{
			strconv.FormatFloat(s.At.Seconds(), 'f', -1, 64),
			u(uint64(s.Node)), u(uint64(s.View)), strconv.FormatBool(s.ViewChanging),
			u(uint64(s.LastExecuted)), u(s.Committed), u(uint64(s.StableSeq)),
			u(s.MsgsSent), u(s.BytesSent), u(s.MsgsRecv), u(s.BytesRecv),
			strconv.FormatFloat(s.CPUSeconds, 'f', -1, 64), u(s.RSSBytes),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
