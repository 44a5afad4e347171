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

// quickAck reads the sequence of an answer that names its stream and
// holds no error; ok is false for any other answer.
func quickAck(b []byte) (seq uint64, ok bool) {
	const stream = `{"stream":"`
	if !bytes.HasPrefix(b, []byte(stream)) || len(b) == len(stream) || b[len(stream)] == '"' || bytes.Contains(b, []byte(`"error"`)) {
		return 0, false
	}
	i := bytes.Index(b, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	rest := b[i+len(`"seq":`):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n == len(rest) || (rest[n] != ',' && rest[n] != '}') {
		return 0, false
	}
	seq, err := strconv.ParseUint(string(rest[:n]), 10, 64)
	return seq, err == nil
}
