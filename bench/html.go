package bench

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"time"
)

// reportTemplate is the report page. It has no external assets — styles
// inline, plots as data: URIs — so the one file can be mailed, attached
// to an issue or archived by CI and still show everything.
//
//go:embed report.html.tmpl
var reportTemplate string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":    fmtDur,
	"durp":   fmtDurPtr,
	"bytes":  func(v uint64) string { return fmtBytes(float64(v)) },
	"bytesf": fmtBytes,
	"f1":     func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"f3":     func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"nodes":  nodeList,
	"end":    func(f FaultWindow, end time.Duration) time.Duration { return f.End(end) },
	"verdictClass": func(v Verdict) string {
		switch {
		case !v.OK():
			return "bad"
		case v.Inconclusive:
			return "unsure"
		}
		return "good"
	},
	"pct":    func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
	"mul1e6": func(v float64) float64 { return v * 1e6 },
	"plural": plural,
}).Parse(reportTemplate))

// htmlPlot is a plot for the page: its title, file and data: URI.
type htmlPlot struct {
	Title, File string
	Src         template.URL
}

// htmlData is what the template sees.
type htmlData struct {
	R         *Result
	End       time.Duration
	F         int
	Interval  time.Duration
	Failed    bool
	Summary   string
	Plots     []htmlPlot
	LinFile   string // linearizability.html when it exists
	Detection []string
	Recovery  float64
	Files     []string
}

// writeHTML renders report.html.
func writeHTML(w io.Writer, r *Result, plots []namedPNG, linFile bool) error {
	d := htmlData{
		R: r, End: r.end(), F: r.f(), Interval: r.interval(), Failed: r.Failed(),
		Summary: Summary(r), Recovery: RecoveryFraction,
		Files: []string{ResultFile, TimeseriesFile},
	}
	if r.Detection != nil {
		d.Detection = detectionLines(r.Detection)
	}
	for _, p := range plots {
		d.Plots = append(d.Plots, htmlPlot{
			Title: p.Title, File: p.File,
			// A data: URI of a PNG we rendered ourselves is safe to
			// mark as a URL for html/template.
			Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.PNG)),
		})
		d.Files = append(d.Files, p.File)
	}
	if linFile {
		d.LinFile = LinearizabilityFile
		d.Files = append(d.Files, LinearizabilityFile)
	}
	return reportTmpl.Execute(w, d)
}
