package state

import (
	"encoding/json"
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

// FuzzQuickAck holds the fast reading of a publish's answer to what
// decoding it as JSON gives: an answer quickAck takes is one the decoder
// reads as the same stream sequence, from a named stream, with no error.
func FuzzQuickAck(f *testing.F) {
	for _, s := range []string{`{"stream":"KV_executions","seq":42}`, `{"stream":"events","seq":7,"duplicate":true}`,
		`{"stream":"KV_x","domain":"hub","seq":1}`, `{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"KV_x","seq":0}`,
		`{"stream":"x","seq":1,"seq":2}`, `{"stream":"x","seq":18446744073709551616}`, `{"stream":"x","seq":007}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, ok := quickAck(b)
		if !ok {
			return
		}
		var ack struct {
			pubAckResponse
			Stream string `json:"stream"`
		}
		if err := json.Unmarshal(b, &ack); err != nil || ack.Error != nil || ack.Stream == "" || ack.Sequence != seq {
			t.Fatalf("quickAck(%s) = %d, but JSON reads %+v, %v", b, seq, ack, err)
		}
	})
}
