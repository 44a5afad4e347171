package state

import (
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestParseAck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		seq  uint64
		code jetstream.ErrorCode // 0: no error
	}{
		{`{"stream":"KV_executions","seq":42}`, 42, 0},
		{`{"stream":"events","seq":7,"duplicate":true}`, 7, 0},
		{`{"stream":"KV_x","domain":"hub","seq":18446744073709551615}`, 18446744073709551615, 0},
		{`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"KV_x","seq":0}`, 0, jetstream.JSErrCodeStreamWrongLastSequence},
		{`{"stream":"KV_x","seq":12,"error":{"code":503,"err_code":10039,"description":"jetstream not enabled"}}`, 0, 10039},
	} {
		seq, err := parseAck([]byte(tc.in))
		var apiErr *jetstream.APIError
		switch {
		case tc.code == 0 && (err != nil || seq != tc.seq):
			t.Errorf("parseAck(%s) = %d, %v; want %d", tc.in, seq, err, tc.seq)
		case tc.code != 0 && (!errors.As(err, &apiErr) || apiErr.ErrorCode != tc.code):
			t.Errorf("parseAck(%s) = %d, %v; want the error %d", tc.in, seq, err, tc.code)
		}
	}
	for _, bad := range []string{``, `{`, `{"seq":1}`, `{"stream":"","seq":1}`} {
		if _, err := parseAck([]byte(bad)); err == nil {
			t.Errorf("parseAck(%q): no error", bad)
		}
	}
}
