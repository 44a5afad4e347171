// Package scrape reads what a Prometheus endpoint serves, for tests: the
// metric families of the text format, and the values of their series.
package scrape

import (
	"fmt"
	"io"
	"maps"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Parse reads metric families in Prometheus' text format.
func Parse(r io.Reader) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// Gather returns the families g gathers, as a scrape would read them.
func Gather(g prometheus.Gatherer) (Families, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, err
	}
	f := Families{}
	for _, mf := range mfs {
		f[mf.GetName()] = mf
	}
	return f, nil
}

// Get scrapes url with the bearer token (none when ""), and returns its
// status and, when it is 200, its families.
func Get(c *http.Client, url, token string) (int, Families, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "text/plain")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil, nil
	}
	f, err := Parse(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return resp.StatusCode, f, nil
}

// Value returns the value of the one series of family name whose labels
// are exactly labels: a gauge's, a counter's or an untyped value, or a
// histogram's sample count. ok is false when there is no such series.
func (f Families) Value(name string, labels map[string]string) (v float64, ok bool) {
	for _, m := range f.series(name) {
		if maps.Equal(labelsOf(m), labels) {
			return value(m), true
		}
	}
	return 0, false
}

// Sum adds the values (as Value) of every series of family name whose
// labels include labels.
func (f Families) Sum(name string, labels map[string]string) float64 {
	var sum float64
	for _, m := range f.series(name) {
		if includes(labelsOf(m), labels) {
			sum += value(m)
		}
	}
	return sum
}

// series returns the series of family name, none when it is absent.
func (f Families) series(name string) []*dto.Metric {
	if mf := f[name]; mf != nil {
		return mf.GetMetric()
	}
	return nil
}

// labelsOf returns the labels of m.
func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// includes reports whether have has every label of want.
func includes(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// value is the value of m: a histogram's sample count.
func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}
