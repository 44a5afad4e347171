package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ackTimeout bounds a write whose context has no deadline, as JetStream's
// client bounds its publishes.
const ackTimeout = 5 * time.Second

// send stores m in the stream of its subject and returns its stream
// sequence: a JetStream publish made with a plain request, whose usual
// answer is read without a JSON decoder (a store writes several times for
// every execution). Its errors are those of jetstream's PublishMsg: a
// refusal is a *jetstream.APIError, no stream answering is
// jetstream.ErrNoStreamResponse.
func (s *Store) send(ctx context.Context, m *nats.Msg) (uint64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ackTimeout)
		defer cancel()
	}
	resp, err := s.nc.RequestMsgWithContext(ctx, m)
	if errors.Is(err, nats.ErrNoResponders) {
		return 0, jetstream.ErrNoStreamResponse
	}
	if err != nil {
		return 0, err
	}
	return parseAck(resp.Data)
}

// parseAck reads the server's answer to a publish: {"stream":..,"seq":N}
// or {"error":{..}}.
func parseAck(b []byte) (uint64, error) {
	if seq, ok := quickAck(b); ok {
		return seq, nil
	}
	var ack struct {
		pubAckResponse
		Stream string `json:"stream"`
	}
	if err := json.Unmarshal(b, &ack); err != nil {
		return 0, fmt.Errorf("the server's answer to a write %q: %w", b, err)
	}
	if ack.Error != nil {
		return 0, ack.Error
	}
	if ack.Stream == "" {
		return 0, jetstream.ErrInvalidJSAck
	}
	return ack.Sequence, nil
}

// quickAck reads the sequence of the answer the server gives a publish
// that it stored: exactly {"stream":"<name>","seq":<n>}, or the same with
// ,"duplicate":true before the brace, the stream's name of letters,
// digits, '_' and '-'. ok is false for any other answer, which parseAck
// then decodes as JSON (FuzzQuickAck holds the two to the same reading).
func quickAck(b []byte) (seq uint64, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"stream":"`))
	if !ok {
		return 0, false
	}
	n := 0
	for n < len(rest) && isStreamNameByte(rest[n]) {
		n++
	}
	if rest, ok = bytes.CutPrefix(rest[n:], []byte(`","seq":`)); !ok || n == 0 {
		return 0, false
	}
	d := 0
	for d < len(rest) && d < 20 && rest[d] >= '0' && rest[d] <= '9' {
		d++
	}
	if d == 0 || d > 1 && rest[0] == '0' {
		return 0, false
	}
	if tail := string(rest[d:]); tail != "}" && tail != `,"duplicate":true}` {
		return 0, false
	}
	seq, err := strconv.ParseUint(string(rest[:d]), 10, 64)
	return seq, err == nil
}

func isStreamNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
