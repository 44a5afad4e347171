package schema

import (
	"strings"
	"testing"
	"time"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		in   string
		want Memory
		text string
	}{
		{"256M", 256, "256M"},
		{"256Mi", 256, "256M"},
		{"1024M", 1024, "1G"},
		{"1024Mi", 1024, "1G"},
		{"1G", 1024, "1G"},
		{"2Gi", 2048, "2G"},
		{"1536M", 1536, "1536M"},
		{"4M", 4, "4M"},
		{"0M", 0, "0M"},
	}
	for _, tt := range tests {
		got, err := ParseMemory(tt.in)
		if err != nil || got != tt.want || got.String() != tt.text {
			t.Errorf("ParseMemory(%q) = %v (%s), %v; want %v (%s)", tt.in, int64(got), got, err, int64(tt.want), tt.text)
		}
	}
	for _, bad := range []string{"", "M", "12", "1.5G", "1K", "1T", "1gi", "-1M", " 1M", "1 M", "99999999999999999999G", "9007199254740993G"} {
		if _, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q): want an error", bad)
		}
	}
}

func TestParseCPUs(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{{"500m", 0.5}, {"1", 1}, {"0.25", 0.25}, {"2000m", 2}, {".5", 0.5}, {"2.", 2}}
	for _, tt := range tests {
		if got, err := ParseCPUs(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseCPUs(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "m", "1.5m", "-1m", "+1", "0x10", "NaN", "Inf", "1_0", "abc", "1e2", "-1"} {
		if _, err := ParseCPUs(bad); err == nil {
			t.Errorf("ParseCPUs(%q): want an error", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		text string
	}{
		{"90s", 90 * time.Second, "1m30s"},
		{"90", 90 * time.Second, "1m30s"},
		{"1h30m", 90 * time.Minute, "1h30m0s"},
		{"0", 0, "0s"},
		{"0s", 0, "0s"},
		{"1.5s", 1500 * time.Millisecond, "1.5s"},
		{"300ms", 300 * time.Millisecond, "300ms"},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil || time.Duration(got) != tt.want || got.String() != tt.text {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "-1s", "-5", "5 s", "1d", "forever", "99999999999999999999", "3000000h"} {
		_, err := ParseDuration(bad)
		if err == nil {
			t.Errorf("ParseDuration(%q): want an error", bad)
		} else if strings.Contains(err.Error(), "strconv") {
			t.Errorf("ParseDuration(%q): error leaks internals: %v", bad, err)
		}
	}
}
